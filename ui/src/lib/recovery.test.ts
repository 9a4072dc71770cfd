import { describe, expect, it } from "vitest";
import type { StepDetail, Version } from "../api/types";
import {
  canRerun,
  canRetry,
  cutParts,
  entryKey,
  logsText,
  origin,
  shortId,
  stepEntryLabel,
  stepErrorMessage,
  stepErrorText,
  stepsOf,
  versionChoices,
} from "./recovery";

function step(node_id: string, item_index: number | null, extra: Partial<StepDetail> = {}): StepDetail {
  return {
    node_id,
    type: "python",
    status: "completed",
    input: {},
    output: {},
    error: null,
    attempts: 1,
    started_at: null,
    finished_at: null,
    duration_ms: 3,
    logs: null,
    item_index,
    truncated: false,
    ...extra,
  };
}

function version(n: number, active = false): Version {
  return { version: n, code_id: `c${n}`, is_active: active, compiled_at: "", execution_count: 0, workflow_code: "", activities_code: "" };
}

describe("what a run allows", () => {
  it("retries runs that ended badly and re-runs any run that ended", () => {
    expect(canRetry("failed")).toBe(true);
    expect(canRetry("timed_out")).toBe(true);
    expect(canRetry("terminated")).toBe(true);
    expect(canRetry("completed")).toBe(false);
    expect(canRetry("running")).toBe(false);
    expect(canRerun("completed")).toBe(true);
    expect(canRerun("failed")).toBe(true);
    expect(canRerun("running")).toBe(false);
    expect(canRerun("pending")).toBe(false);
  });
  it("names where a run came from", () => {
    expect(origin({ retry_of: "a", rerun_of: null })).toEqual({ kind: "retry", id: "a" });
    expect(origin({ retry_of: null, rerun_of: "b" })).toEqual({ kind: "rerun", id: "b" });
    expect(origin({})).toBeNull();
    expect(shortId("0123456789abcdef")).toBe("01234567");
  });
});

describe("versions to re-run on", () => {
  it("offers the active version first, then every version newest first", () => {
    const choices = versionChoices([version(1), version(3, true), version(2)], 2);
    expect(choices).toEqual([
      { value: "", label: "Active version (v3)" },
      { value: "3", label: "v3 (active)" },
      { value: "2", label: "v2 (this run's)" },
      { value: "1", label: "v1" },
    ]);
    expect(versionChoices(undefined, null)).toEqual([{ value: "", label: "Active version" }]);
  });
});

describe("steps of a node", () => {
  it("keeps one node's entries, the whole step before its items", () => {
    const all = [step("each", 1), step("other", null), step("each", null), step("each", 0)];
    const mine = stepsOf(all, "each");
    expect(mine.map(entryKey)).toEqual(["step", "0", "1"]);
    expect(mine.map(stepEntryLabel)).toEqual(["the step as a whole", "item 0", "item 1"]);
    expect(stepsOf(undefined, "each")).toEqual([]);
  });
  it("writes an error as type: message", () => {
    expect(stepErrorText({ type: "ValueError", message: "boom" })).toBe("ValueError: boom");
    expect(stepErrorText({ type: null, message: "boom" })).toBe("boom");
    expect(stepErrorText({ type: "ValueError", message: "ValueError: boom" })).toBe("ValueError: boom");
    expect(stepErrorMessage({ type: "ValueError", message: "ValueError: boom" })).toBe("boom");
    expect(stepErrorText(null)).toBeNull();
  });
});

describe("logs and cut values", () => {
  it("joins log lines", () => {
    expect(logsText(["hello from Ada\n", "second"])).toBe("hello from Ada\nsecond");
    expect(logsText("one\ntwo")).toBe("one\ntwo");
    expect(logsText([])).toBeNull();
    expect(logsText(null)).toBeNull();
  });
  it("says which values were cut", () => {
    expect(cutParts({ truncated: false, input: "x…", output: null })).toEqual({ input: false, output: false });
    expect(cutParts({ truncated: true, input: { a: 1 }, output: '{"blob":"xxx…' })).toEqual({ input: false, output: true });
    expect(cutParts({ truncated: true, input: '{"big":"…', output: 3 })).toEqual({ input: true, output: false });
    expect(cutParts({ truncated: true, input: {}, output: null })).toEqual({ input: false, output: true });
  });
});
