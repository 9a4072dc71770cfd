import { describe, expect, it } from "vitest";
import type { Project } from "../api/types";
import { ALL_PROJECTS, expiryFromDate, isExpired, keyProjectName, keyStart, todayInput } from "./apiKeys";

describe("API key expiry", () => {
  const now = new Date(2026, 11, 2, 12, 0, 0);

  it("means the end of the chosen day", () => {
    const r = expiryFromDate("2026-12-31", now);
    expect(r.ok).toBe(true);
    if (r.ok && r.value) {
      const d = new Date(r.value);
      expect([d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes()]).toEqual([2026, 11, 31, 23, 59]);
    }
    expect(expiryFromDate("2026-12-02", now).ok).toBe(true);
  });

  it("is optional, and never in the past", () => {
    expect(expiryFromDate("", now)).toEqual({ ok: true, value: null });
    expect(expiryFromDate("2026-12-01", now).ok).toBe(false);
    expect(expiryFromDate("soon", now).ok).toBe(false);
  });

  it("offers today as the earliest date", () => {
    expect(todayInput(now)).toBe("2026-12-02");
  });

  it("tells expired keys apart", () => {
    const t = Date.parse("2026-12-02T12:00:00Z");
    expect(isExpired({ expires_at: null }, t)).toBe(false);
    expect(isExpired({ expires_at: "2026-12-01T00:00:00Z" }, t)).toBe(true);
    expect(isExpired({ expires_at: "2026-12-03T00:00:00Z" }, t)).toBe(false);
  });
});

describe("API key projects", () => {
  const projects = [{ id: "p1", name: "Orders" }] as Project[];
  it("names the project a key is limited to", () => {
    expect(keyProjectName({ project_id: null }, projects)).toBe(ALL_PROJECTS);
    expect(keyProjectName({ project_id: "p1" }, projects)).toBe("Orders");
    expect(keyProjectName({ project_id: "p2" }, projects)).toBe("p2");
    expect(keyProjectName({ project_id: "p1" }, undefined)).toBe("p1");
  });
});

describe("API key prefixes", () => {
  it("shows the start of the key as it is typed", () => {
    expect(keyStart("EZuynD8T")).toBe("rl_EZuynD8T");
    expect(keyStart("rl_EZuynD8T")).toBe("rl_EZuynD8T");
  });
});
