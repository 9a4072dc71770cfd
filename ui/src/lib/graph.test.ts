import { describe, expect, it } from "vitest";
import type { Graph } from "../api/types";
import { applyProblems, autoLayout, canConnect, flowToGraph, graphToFlow } from "./graph";

const DESIGN_GRAPH: Graph = {
  nodes: [
    { id: "start", type: "start", position: { x: 0, y: 0 } },
    {
      id: "fetch",
      type: "http_request",
      position: { x: 0, y: 100 },
      config: { method: "GET", url: "https://example.test/orders/{{ input.order_id }}" },
      retry: { maximum_attempts: 3 },
      timeout_s: 30,
    },
    { id: "big", type: "condition", position: { x: 0, y: 200 }, config: { expression: "steps.fetch.body.total > 100" } },
    { id: "approve", type: "wait_for_signal", position: { x: -100, y: 300 }, config: { signal: "approve", timeout_s: 86400 } },
    { id: "shape", type: "transform", position: { x: 100, y: 300 }, config: { output: { total: "{{ steps.fetch.body.total }}" } } },
    { id: "end", type: "end", position: { x: 0, y: 400 }, config: { output: "{{ steps.shape }}" } },
  ],
  edges: [
    { source: "start", target: "fetch" },
    { source: "fetch", target: "big" },
    { source: "big", target: "approve", branch: "true" },
    { source: "big", target: "shape", branch: "false" },
    { source: "approve", target: "shape" },
    { source: "approve", target: "end", branch: "timeout" },
    { source: "shape", target: "end" },
  ],
};

describe("graph ↔ React Flow", () => {
  it("round-trips the design document's graph exactly", () => {
    const { nodes, edges } = graphToFlow(DESIGN_GRAPH);
    expect(flowToGraph(nodes, edges)).toEqual(DESIGN_GRAPH);
  });

  it("labels condition and timeout edges and wires them to named handles", () => {
    const { edges } = graphToFlow(DESIGN_GRAPH);
    const t = edges.find((e) => e.target === "approve");
    expect(t?.sourceHandle).toBe("true");
    expect(t?.label).toBe("true");
    expect(edges.find((e) => e.target === "shape" && e.source === "big")?.label).toBe("false");
    // The plain output of a node with several outputs is the "next" handle, saved without a branch.
    const next = edges.find((e) => e.source === "approve" && e.target === "shape");
    expect(next?.sourceHandle).toBe("next");
    expect(next?.label).toBeUndefined();
  });

  it("gives edges unique ids even between the same nodes", () => {
    const g: Graph = {
      nodes: [
        { id: "c", type: "condition", config: { expression: "true" } },
        { id: "e", type: "end" },
      ],
      edges: [
        { source: "c", target: "e", branch: "true" },
        { source: "c", target: "e", branch: "false" },
      ],
    };
    const ids = graphToFlow(g).edges.map((e) => e.id);
    expect(new Set(ids).size).toBe(2);
  });

  it("drops display-only data and options that only activities take", () => {
    const { nodes, edges } = graphToFlow({
      nodes: [{ id: "d", type: "delay", position: { x: 1.4, y: 2.6 }, config: { seconds: 5 } }],
      edges: [],
    });
    const first = nodes[0]!;
    first.data.problems = ["bad"];
    first.data.runStatus = "running";
    first.data.retry = { maximum_attempts: 2 };
    expect(flowToGraph(nodes, edges)).toEqual({
      nodes: [{ id: "d", type: "delay", position: { x: 1, y: 3 }, config: { seconds: 5 } }],
      edges: [],
    });
  });

  it("handles an empty or missing graph", () => {
    expect(graphToFlow(null)).toEqual({ nodes: [], edges: [] });
    expect(flowToGraph([], [])).toEqual({ nodes: [], edges: [] });
  });

  it("lays out nodes without positions in layers from the start", () => {
    const g: Graph = {
      nodes: [
        { id: "end", type: "end" },
        { id: "a", type: "transform" },
        { id: "b", type: "transform" },
        { id: "start", type: "start" },
      ],
      edges: [
        { source: "start", target: "a" },
        { source: "start", target: "b" },
        { source: "a", target: "end" },
        { source: "b", target: "end" },
      ],
    };
    const pos = autoLayout(g);
    expect(pos.get("start")?.y).toBe(0);
    expect(pos.get("a")?.y).toBe(pos.get("b")?.y);
    expect(pos.get("a")?.x).not.toBe(pos.get("b")?.x);
    expect(pos.get("end")!.y).toBeGreaterThan(pos.get("a")!.y);
    const { nodes } = graphToFlow(g);
    expect(nodes.find((n) => n.id === "end")?.position).toEqual(pos.get("end"));
  });

  it("lays out cycles without looping forever", () => {
    const pos = autoLayout({
      nodes: [
        { id: "a", type: "transform" },
        { id: "b", type: "transform" },
      ],
      edges: [
        { source: "a", target: "b" },
        { source: "b", target: "a" },
      ],
    });
    expect(pos.size).toBe(2);
  });
});

describe("canConnect", () => {
  const { nodes, edges } = graphToFlow(DESIGN_GRAPH);
  it("refuses self loops, duplicates and edges into start", () => {
    expect(canConnect(edges, nodes, { source: "fetch", target: "fetch" })).toBe(false);
    expect(canConnect(edges, nodes, { source: "start", target: "fetch" })).toBe(false);
    expect(canConnect(edges, nodes, { source: "fetch", target: "start" })).toBe(false);
    expect(canConnect(edges, nodes, { source: "fetch", target: "end" })).toBe(true);
  });
  it("tells branches apart", () => {
    expect(canConnect(edges, nodes, { source: "big", target: "approve", sourceHandle: "true" })).toBe(false);
    expect(canConnect(edges, nodes, { source: "big", target: "approve", sourceHandle: "false" })).toBe(true);
  });
});

describe("applyProblems", () => {
  it("marks the nodes and edges that problems name, and clears old marks", () => {
    const { nodes, edges } = graphToFlow(DESIGN_GRAPH);
    const marked = applyProblems(nodes, edges, [
      { code: "missing_url", message: "URL is required", node_id: "fetch" },
      { code: "x", message: "second", node_id: "fetch" },
      { code: "bad_edge", message: "dangling", edge_index: 1 },
    ]);
    expect(marked.nodes.find((n) => n.id === "fetch")?.data.problems).toEqual(["URL is required", "second"]);
    expect(marked.nodes.find((n) => n.id === "big")?.data.problems).toBeUndefined();
    expect(marked.edges[1]?.className).toContain("edge-problem");
    expect(marked.edges[2]?.className).toBe("edge-true");
    const cleared = applyProblems(marked.nodes, marked.edges, []);
    expect(cleared.nodes.find((n) => n.id === "fetch")?.data.problems).toBeUndefined();
    expect(cleared.edges[1]?.className).toBeUndefined();
    expect(cleared.edges[2]?.className).toBe("edge-true");
  });
});
