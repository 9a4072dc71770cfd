import { describe, expect, it } from "vitest";
import { runEdges, withRunClass } from "./runPath";

const edges = [
  { id: "1", source: "start", target: "c" },
  { id: "2", source: "c", target: "yes", sourceHandle: "true" },
  { id: "3", source: "c", target: "no", sourceHandle: "false" },
  { id: "4", source: "yes", target: "end" },
  { id: "5", source: "no", target: "end" },
];

describe("runEdges", () => {
  it("highlights the branch taken and dims the other once the run is over", () => {
    const states = {
      start: { status: "completed" },
      c: { status: "completed" },
      yes: { status: "completed" },
      no: { status: "pending" },
      end: { status: "completed" },
    };
    const marks = runEdges(edges, states, true);
    expect(Object.fromEntries(marks)).toEqual({ "1": "taken", "2": "taken", "3": "untaken", "4": "taken", "5": "untaken" });
  });

  it("leaves edges ahead of a live run undecided", () => {
    const states = { start: { status: "completed" }, c: { status: "running" } };
    const marks = runEdges(edges, states, false);
    expect(marks.get("1")).toBe("taken");
    expect(marks.get("2")).toBeNull();
  });

  it("picks the branch whose target started first when both targets ran", () => {
    const join = [
      { id: "a", source: "c", target: "x", sourceHandle: "true" },
      { id: "b", source: "c", target: "end", sourceHandle: "false" },
      { id: "c", source: "x", target: "end" },
    ];
    const states = {
      c: { status: "completed" },
      x: { status: "completed", started_at: "2025-01-01T00:00:01Z" },
      end: { status: "completed", started_at: "2025-01-01T00:00:02Z" },
    };
    const marks = runEdges(join, states, true);
    expect(marks.get("a")).toBe("taken");
    expect(marks.get("b")).toBe("untaken");
  });

  it("takes an error edge only from a failed step", () => {
    const e = [{ id: "x", source: "h", target: "fix", sourceHandle: "error" }];
    expect(runEdges(e, { h: { status: "failed" }, fix: { status: "completed" } }, true).get("x")).toBe("taken");
    expect(runEdges(e, { h: { status: "completed" }, fix: { status: "pending" } }, true).get("x")).toBe("untaken");
  });
});

describe("withRunClass", () => {
  it("replaces an earlier mark and keeps the edge's own classes", () => {
    expect(withRunClass("edge-false edge-taken", "untaken")).toBe("edge-false edge-untaken");
    expect(withRunClass("edge-false edge-taken", null)).toBe("edge-false");
    expect(withRunClass(undefined, null)).toBeUndefined();
  });
});
