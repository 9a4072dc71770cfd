import { describe, expect, it } from "vitest";
import { diffLines, diffSummary, diffVersionedCode, splitLines } from "./diff";

describe("line diff", () => {
  it("finds nothing between equal texts", () => {
    const d = diffLines("a\nb\n", "a\nb\n");
    expect(d.every((l) => l.op === "same")).toBe(true);
    expect(diffSummary(d)).toEqual({ added: 0, removed: 0 });
  });

  it("finds a changed line in the middle with line numbers", () => {
    const d = diffLines("a\nb\nc\n", "a\nB\nc\n");
    expect(d.map((l) => `${l.op}:${l.text}`)).toEqual(["same:a", "del:b", "add:B", "same:c"]);
    expect(d[1]).toMatchObject({ oldNo: 2, newNo: null });
    expect(d[2]).toMatchObject({ oldNo: null, newNo: 2 });
    expect(d[3]).toMatchObject({ oldNo: 3, newNo: 3 });
  });

  it("handles additions, removals and empty sides", () => {
    expect(diffSummary(diffLines("", "x\ny"))).toEqual({ added: 2, removed: 0 });
    expect(diffSummary(diffLines("x\ny", ""))).toEqual({ added: 0, removed: 2 });
    const d = diffLines("a\nc", "a\nb\nc\nd");
    expect(d.map((l) => l.op)).toEqual(["same", "add", "same", "add"]);
  });

  it("keeps the common subsequence (minimal edit)", () => {
    const d = diffLines("x\na\nb\nc\ny", "x\nb\nc\na\ny");
    const s = diffSummary(d);
    expect(s.added + s.removed).toBe(2);
    // Rebuilding both sides from the diff gives back the inputs.
    expect(d.filter((l) => l.op !== "add").map((l) => l.text)).toEqual(["x", "a", "b", "c", "y"]);
    expect(d.filter((l) => l.op !== "del").map((l) => l.text)).toEqual(["x", "b", "c", "a", "y"]);
  });

  it("splits lines without a phantom last line", () => {
    expect(splitLines("")).toEqual([]);
    expect(splitLines("a\n")).toEqual(["a"]);
    expect(splitLines("a\n\nb")).toEqual(["a", "", "b"]);
  });
});

describe("diff of two versions' code", () => {
  it("does not count the version names as changes", () => {
    const v1 = '@workflow.defn(name="orders@v1")\nclass OrdersV1Workflow:\n    """Graph \'orders\' v1: 3 nodes."""\n    x = 1\n';
    const v2 = '@workflow.defn(name="orders@v2")\nclass OrdersV2Workflow:\n    """Graph \'orders\' v2: 3 nodes."""\n    x = 2\n';
    const d = diffVersionedCode(v1, v2);
    expect(d.filter((l) => l.op !== "same").map((l) => `${l.op}:${l.text.trim()}`)).toEqual(["del:x = 1", "add:x = 2"]);
    expect(d[1]?.text).toBe("class OrdersV2Workflow:");
  });
});
