import { describe, expect, it } from "vitest";
import { apiQuery, fromLocalInput, hasFilters, parseRunFilters, toLocalInput, totalOf, withFilters } from "./runFilters";

const NOW = Date.parse("2025-03-01T12:00:00Z");

describe("filters in the query string", () => {
  it("reads known values and ignores the rest", () => {
    const f = parseRunFilters(new URLSearchParams("status=failed&trigger=webhook&range=24h&q=boom&limit=10&x=1"));
    expect(f).toMatchObject({ status: "failed", triggeredBy: "webhook", range: "24h", q: "boom", limit: 10 });
    const bad = parseRunFilters(new URLSearchParams("status=exploded&trigger=cron&range=2y&limit=0"));
    expect(bad).toMatchObject({ status: "", triggeredBy: "", range: "", limit: 50 });
    expect(hasFilters(bad)).toBe(false);
  });
  it("keeps custom dates only with the custom range", () => {
    const since = "2025-02-01T00:00:00.000Z";
    expect(parseRunFilters(new URLSearchParams(`range=custom&since=${since}`)).since).toBe(since);
    expect(parseRunFilters(new URLSearchParams(`range=24h&since=${since}`)).since).toBe("");
    expect(parseRunFilters(new URLSearchParams("range=custom&since=yesterday")).since).toBe("");
  });
  it("writes changes, dropping empty values, the default page size and stale dates", () => {
    const start = new URLSearchParams("status=failed&range=custom&since=2025-02-01T00:00:00.000Z&run=keep");
    const next = withFilters(start, { status: "", range: "7d", q: "order 7", limit: 50 });
    expect(next.toString()).toBe("range=7d&run=keep&q=order+7");
    expect(withFilters(next, { limit: 10 }).get("limit")).toBe("10");
  });
});

describe("the API query", () => {
  it("turns relative ranges into a since instant and passes every filter", () => {
    const f = parseRunFilters(new URLSearchParams("status=completed&trigger=api&range=1h&q=%20abc%20&limit=25&workflow=w2"));
    const q = apiQuery(f, undefined, NOW);
    expect(Object.fromEntries(q)).toEqual({
      workflow_id: "w2",
      status: "completed",
      triggered_by: "api",
      since: "2025-03-01T11:00:00.000Z",
      q: "abc",
      limit: "25",
    });
  });
  it("prefers the workflow of the page and passes custom dates", () => {
    const f = parseRunFilters(
      new URLSearchParams("workflow=other&project=p1&range=custom&since=2025-02-01T00:00:00Z&until=2025-02-02T00:00:00Z"),
    );
    const q = apiQuery(f, "w1", NOW);
    expect(q.get("workflow_id")).toBe("w1");
    expect(q.has("project_id")).toBe(false);
    expect(q.get("since")).toBe("2025-02-01T00:00:00.000Z");
    expect(q.get("until")).toBe("2025-02-02T00:00:00.000Z");
    expect(q.get("limit")).toBe("50");
  });
});

describe("helpers", () => {
  it("converts datetime-local values both ways", () => {
    const iso = fromLocalInput("2025-02-03T04:05");
    expect(iso).not.toBe("");
    expect(toLocalInput(iso)).toBe("2025-02-03T04:05");
    expect(fromLocalInput("")).toBe("");
    expect(toLocalInput("nonsense")).toBe("");
  });
  it("sums the counts", () => {
    expect(totalOf({ completed: 3, failed: 2 })).toBe(5);
    expect(totalOf(undefined)).toBe(0);
  });
});
