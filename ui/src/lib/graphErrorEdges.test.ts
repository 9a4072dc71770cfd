import { describe, expect, it } from "vitest";
import type { Graph } from "../api/types";
import { canConnect, edgeKindProps, flowToGraph, graphToFlow, hasErrorHandle, isErrorEdge } from "./graph";

const GRAPH: Graph = {
  nodes: [
    { id: "start", type: "start", position: { x: 0, y: 0 } },
    { id: "charge", type: "http_request", position: { x: 0, y: 100 }, config: { method: "POST", url: "https://x.test" } },
    { id: "shape", type: "transform", position: { x: 0, y: 200 }, config: { output: {} } },
    { id: "apologise", type: "python", position: { x: 200, y: 200 }, config: { code: "return error" } },
    { id: "end", type: "end", position: { x: 0, y: 300 } },
  ],
  edges: [
    { source: "start", target: "charge" },
    { source: "charge", target: "shape" },
    { source: "charge", target: "apologise", sourceHandle: "error" },
    { source: "shape", target: "end" },
    { source: "apologise", target: "end" },
  ],
};

describe("error edges", () => {
  it("are drawn red, dashed and labelled, and saved back as they came", () => {
    const { nodes, edges } = graphToFlow(GRAPH);
    const err = edges.find((e) => e.target === "apologise");
    expect(err).toMatchObject({ sourceHandle: "error", label: "on error", className: "edge-error" });
    expect(edges.find((e) => e.target === "shape")?.sourceHandle).toBeUndefined();
    expect(flowToGraph(nodes, edges)).toEqual(GRAPH);
  });
  it("are read from a branch named error too", () => {
    expect(isErrorEdge({ branch: "error" })).toBe(true);
    expect(isErrorEdge({ sourceHandle: null })).toBe(false);
    const { edges } = graphToFlow({ nodes: GRAPH.nodes, edges: [{ source: "charge", target: "apologise", branch: "error" as never }] });
    expect(edges[0]?.sourceHandle).toBe("error");
  });
  it("leave only python and http steps, once each", () => {
    expect(hasErrorHandle("python")).toBe(true);
    expect(hasErrorHandle("http_request")).toBe(true);
    expect(hasErrorHandle("transform")).toBe(false);
    const { nodes, edges } = graphToFlow(GRAPH);
    expect(canConnect(edges, nodes, { source: "charge", target: "end", sourceHandle: "error" })).toBe(false);
    expect(canConnect(edges, nodes, { source: "apologise", target: "shape", sourceHandle: "error" })).toBe(true);
    expect(canConnect(edges, nodes, { source: "shape", target: "apologise", sourceHandle: "error" })).toBe(false);
  });
  it("switch kind in place", () => {
    expect(edgeKindProps("error")).toEqual({ sourceHandle: "error", label: "on error", className: "edge-error" });
    expect(edgeKindProps("normal")).toEqual({ sourceHandle: null, label: undefined, className: undefined });
  });
});
