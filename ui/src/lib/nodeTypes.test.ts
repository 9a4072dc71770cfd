import { describe, expect, it } from "vitest";
import { NODE_TYPES, PALETTE_ORDER, isNodeType, newNodeId, validNodeId } from "./nodeTypes";
import { formatDuration, formatPercent } from "./format";

describe("node types", () => {
  it("the palette offers every node type once", () => {
    expect([...PALETTE_ORDER].sort()).toEqual(Object.keys(NODE_TYPES).sort());
  });
  it("condition has true/false outputs, wait_for_signal a timeout, end none", () => {
    expect(NODE_TYPES.condition.outputs).toEqual(["true", "false"]);
    expect(NODE_TYPES.wait_for_signal.outputs).toEqual([null, "timeout"]);
    expect(NODE_TYPES.end.outputs).toEqual([]);
    expect(NODE_TYPES.start.hasInput).toBe(false);
  });
  it("activity nodes are the ones that run in the worker", () => {
    const activities = Object.values(NODE_TYPES).filter((s) => s.activity).map((s) => s.type).sort();
    expect(activities).toEqual(["for_each", "http_request", "python"]);
  });
  it("new ids are unique and valid", () => {
    expect(newNodeId("start", [])).toBe("start");
    expect(newNodeId("start", ["start"])).toBe("start_1");
    expect(newNodeId("http_request", ["http_request_1"])).toBe("http_request_2");
    expect(validNodeId(newNodeId("for_each", []))).toBe(true);
    expect(validNodeId("1abc")).toBe(false);
    expect(validNodeId("a b")).toBe(false);
    expect(isNodeType("python")).toBe(true);
    expect(isNodeType("toString")).toBe(false);
  });
});

describe("formatting", () => {
  it("formats durations and rates", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(250)).toBe("250 ms");
    expect(formatDuration(1500)).toBe("1.50 s");
    expect(formatDuration(125000)).toBe("2m 5s");
    expect(formatPercent(0.5)).toBe("50.0%");
    expect(formatPercent(1)).toBe("100%");
    expect(formatPercent(null)).toBe("—");
  });
});
