import { describe, expect, it } from "vitest";
import type { Trigger } from "../api/types";
import {
  curlExample,
  formatFireTime,
  formatUntil,
  isTimeZone,
  newScheduleForm,
  overlapLabel,
  scheduleBody,
  scheduleFormOf,
  scheduleSpec,
  shellQuote,
  triggeredByLabel,
  triggerTitle,
} from "./triggers";

function trigger(patch: Partial<Trigger>): Trigger {
  return {
    id: "0b8f3c2e-0000-4000-8000-000000000000",
    workflow_id: "w",
    type: "schedule",
    enabled: true,
    created_at: "2026-12-02T10:00:00Z",
    url: null,
    token_prefix: null,
    cron: null,
    interval_s: null,
    timezone: "Europe/Berlin",
    input: null,
    overlap: "skip",
    description: null,
    next_runs: [],
    ...patch,
  };
}

describe("what started a run", () => {
  it("labels every kind and tolerates servers that do not say", () => {
    expect(triggeredByLabel("manual")?.label).toBe("manual");
    expect(triggeredByLabel("api")?.label).toBe("API");
    expect(triggeredByLabel("webhook")?.label).toBe("webhook");
    expect(triggeredByLabel("schedule")?.label).toBe("schedule");
    expect(triggeredByLabel(undefined)).toBeNull();
    expect(triggeredByLabel(null)).toBeNull();
    expect(triggeredByLabel("cli")).toEqual({ label: "cli", title: "Started by: cli" });
  });
});

describe("schedule form", () => {
  const base = { ...newScheduleForm("Europe/Berlin") };

  it("sends exactly one of cron and interval", () => {
    expect(scheduleSpec({ ...base, mode: "cron", cron: "  */5  *  * * * " })).toEqual({
      ok: true,
      value: { cron: "*/5 * * * *", interval_s: null, timezone: "Europe/Berlin" },
    });
    expect(scheduleSpec({ ...base, mode: "interval", interval: "2" })).toEqual({
      ok: true,
      value: { cron: null, interval_s: 2, timezone: "Europe/Berlin" },
    });
  });

  it("refuses what cannot be a schedule before asking the server", () => {
    expect(scheduleSpec({ ...base, mode: "cron", cron: " " }).ok).toBe(false);
    for (const interval of ["0", "-3", "1.5", "ten", ""]) {
      const r = scheduleSpec({ ...base, mode: "interval", interval });
      expect(r.ok, interval).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/seconds/);
    }
    const tz = scheduleSpec({ ...base, timezone: "Mars/Olympus" });
    expect(tz.ok).toBe(false);
    if (!tz.ok) expect(tz.error).toContain("Mars/Olympus");
    expect(scheduleSpec({ ...base, timezone: "" }).ok).toBe(false);
  });

  it("builds the body with input and overlap", () => {
    expect(scheduleBody({ ...base, input: '{"n": 1}', overlap: "buffer_one" })).toEqual({
      ok: true,
      value: { cron: "*/5 * * * *", interval_s: null, timezone: "Europe/Berlin", input: { n: 1 }, overlap: "buffer_one" },
    });
    expect(scheduleBody({ ...base, input: "" })).toMatchObject({ ok: true, value: { input: {} } });
    const bad = scheduleBody({ ...base, input: "[1]" });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatch(/^Input: .*JSON object/);
  });

  it("edits an existing schedule", () => {
    const f = scheduleFormOf(trigger({ interval_s: 30, input: { a: 1 }, overlap: "allow_all", timezone: "UTC" }));
    expect(f).toMatchObject({ mode: "interval", interval: "30", timezone: "UTC", overlap: "allow_all" });
    expect(JSON.parse(f.input)).toEqual({ a: 1 });
    expect(scheduleFormOf(trigger({ cron: "0 9 * * 1" }))).toMatchObject({ mode: "cron", cron: "0 9 * * 1" });
  });

  it("knows time zones", () => {
    expect(isTimeZone("Europe/Berlin")).toBe(true);
    expect(isTimeZone("UTC")).toBe(true);
    expect(isTimeZone("Nowhere/Else")).toBe(false);
    expect(isTimeZone("")).toBe(false);
  });
});

describe("fire times", () => {
  it("shows a time in the schedule's zone", () => {
    const berlin = formatFireTime("2026-12-02T09:05:00Z", "Europe/Berlin", "en-GB");
    const tokyo = formatFireTime("2026-12-02T09:05:00Z", "Asia/Tokyo", "en-GB");
    expect(berlin).toMatch(/10.05.00/);
    expect(tokyo).toMatch(/18.05.00/);
    expect(formatFireTime("not a date", "UTC")).toBe("not a date");
    expect(formatFireTime("2026-12-02T09:05:00Z", "Bad/Zone")).toMatch(/2026/);
  });

  it("says how far away it is", () => {
    const now = Date.parse("2026-12-02T10:00:00Z");
    expect(formatUntil("2026-12-02T10:00:04Z", now)).toBe("in 4 s");
    expect(formatUntil("2026-12-02T10:05:00Z", now)).toBe("in 5 min");
    expect(formatUntil("2026-12-02T13:00:00Z", now)).toBe("in 3 h");
    expect(formatUntil("2026-12-03T10:00:00Z", now)).toBe("in 1 day");
    expect(formatUntil("2026-12-01T10:00:00Z", now)).toBe("now");
  });
});

describe("webhook calls", () => {
  it("quotes for a shell", () => {
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  it("shows a curl command with the token", () => {
    const cmd = curlExample("http://127.0.0.1:8000/hooks/abc", "whk_secret");
    expect(cmd).toContain("curl -X POST 'http://127.0.0.1:8000/hooks/abc'");
    expect(cmd).toContain("-H 'Authorization: Bearer whk_secret'");
    expect(cmd).toContain("-H 'Content-Type: application/json'");
    expect(cmd).toContain(`-d '{"hello": "world"}'`);
  });

  it("names triggers", () => {
    expect(triggerTitle(trigger({ type: "webhook", token_prefix: "whk_ab12" }))).toBe("Webhook whk_ab12…");
    expect(triggerTitle(trigger({ type: "webhook" }))).toBe("Webhook 0b8f3c2e");
    expect(triggerTitle(trigger({ description: "At every 5th minute", cron: "*/5 * * * *" }))).toBe(
      "Schedule: At every 5th minute",
    );
    expect(triggerTitle(trigger({ interval_s: 2 }))).toBe("Schedule: every 2 s");
    expect(overlapLabel("buffer_one")).toBe("Buffer one");
    expect(overlapLabel(null)).toBe("—");
  });
});
