import { describe, expect, it } from "vitest";
import { childPath, copyText, entries, formatScalar, isOpen, ROOT, searchJson, summarize } from "./jsonTree";

describe("paths", () => {
  it("writes keys as JavaScript would", () => {
    expect(childPath(ROOT, "body")).toBe("$.body");
    expect(childPath("$.body", 0)).toBe("$.body[0]");
    expect(childPath(ROOT, "a key")).toBe('$["a key"]');
    expect(childPath(ROOT, "9lives")).toBe('$["9lives"]');
  });
});

describe("summaries and scalars", () => {
  it("counts keys and items", () => {
    expect(summarize({ a: 1, b: 2 })).toBe("{2 keys}");
    expect(summarize({ a: 1 })).toBe("{1 key}");
    expect(summarize([1])).toBe("[1 item]");
    expect(summarize([])).toBe("[0 items]");
  });
  it("formats scalars as JSON", () => {
    expect(formatScalar("hi")).toEqual({ text: '"hi"', kind: "string" });
    expect(formatScalar(4.5)).toEqual({ text: "4.5", kind: "number" });
    expect(formatScalar(false)).toEqual({ text: "false", kind: "boolean" });
    expect(formatScalar(null)).toEqual({ text: "null", kind: "null" });
  });
  it("lists entries in order", () => {
    expect(entries(["x", "y"])).toEqual([
      [0, "x"],
      [1, "y"],
    ]);
    expect(entries({ b: 1, a: 2 })).toEqual([
      ["b", 1],
      ["a", 2],
    ]);
  });
});

describe("search", () => {
  const value = { order: { id: 42, lines: [{ sku: "ABC-1" }, { sku: "xyz" }] }, note: "abc inside" };
  it("finds keys and values, case-insensitively, and opens their ancestors", () => {
    const r = searchJson(value, "abc");
    expect(r.matches).toEqual(["$.order.lines[0].sku", "$.note"]);
    expect([...r.open].sort()).toEqual(["$", "$.order", "$.order.lines", "$.order.lines[0]"]);
  });
  it("matches keys of containers and numbers", () => {
    expect(searchJson(value, "LINES").matches).toEqual(["$.order.lines"]);
    expect(searchJson(value, "42").matches).toEqual(["$.order.id"]);
  });
  it("finds nothing for an empty query, and stops at the limit", () => {
    expect(searchJson(value, "  ").matches).toEqual([]);
    expect(searchJson(Array.from({ length: 50 }, () => "a"), "a", 10).matches).toHaveLength(10);
  });
});

describe("which branches are open", () => {
  const base = { toggled: new Map<string, boolean>(), searchOpen: new Set<string>(), mode: "default" as const, defaultDepth: 2 };
  it("opens shallow containers by default", () => {
    expect(isOpen("$", 0, base)).toBe(true);
    expect(isOpen("$.a", 1, base)).toBe(true);
    expect(isOpen("$.a.b", 2, base)).toBe(false);
  });
  it("lets expand all and collapse all override the depth, the root staying open", () => {
    expect(isOpen("$.a.b.c", 3, { ...base, mode: "all" })).toBe(true);
    expect(isOpen("$.a", 1, { ...base, mode: "none" })).toBe(false);
    expect(isOpen("$", 0, { ...base, mode: "none" })).toBe(true);
  });
  it("opens what a search needs, unless the user closed it", () => {
    const searchOpen = new Set(["$.a.b"]);
    expect(isOpen("$.a.b", 2, { ...base, searchOpen })).toBe(true);
    expect(isOpen("$.a.b", 2, { ...base, searchOpen, toggled: new Map([["$.a.b", false]]) })).toBe(false);
  });
});

describe("copy", () => {
  it("copies strings as they are and the rest as pretty JSON", () => {
    expect(copyText("line 1\nline 2")).toBe("line 1\nline 2");
    expect(copyText({ a: [1] })).toBe('{\n  "a": [\n    1\n  ]\n}');
    expect(copyText(null)).toBe("null");
  });
});
