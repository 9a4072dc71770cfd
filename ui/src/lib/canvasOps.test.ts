import { describe, expect, it } from "vitest";
import type { Graph } from "../api/types";
import { addAfter, addNodeWhere, freeOutput, insertBetween, layoutDoc, type Doc } from "./canvasOps";
import { flowToGraph, graphToFlow } from "./graph";

const STARTER: Graph = {
  nodes: [
    { id: "start", type: "start", position: { x: 0, y: 0 } },
    { id: "end", type: "end", position: { x: 0, y: 260 } },
  ],
  edges: [{ source: "start", target: "end" }],
};

function doc(g: Graph = STARTER): Doc {
  return graphToFlow(g);
}

const overlap = (a: { x: number; y: number }, b: { x: number; y: number }) => Math.abs(a.x - b.x) < 190 && Math.abs(a.y - b.y) < 90;

describe("insertBetween", () => {
  it("replaces the edge by two through the new node, which is selected", () => {
    const d = doc();
    const next = insertBetween(d, "python", d.edges[0]!.id);
    const g = flowToGraph(next.nodes, next.edges);
    expect(g.edges).toEqual([
      { source: "start", target: "python_1" },
      { source: "python_1", target: "end" },
    ]);
    expect(next.nodes.find((n) => n.id === "python_1")?.selected).toBe(true);
  });

  it("keeps the branch of the edge and moves what follows down when there is no room", () => {
    const g: Graph = {
      nodes: [
        { id: "start", type: "start", position: { x: 0, y: 0 } },
        { id: "c", type: "condition", position: { x: 0, y: 120 }, config: { expression: "true" } },
        { id: "end", type: "end", position: { x: 0, y: 240 } },
      ],
      edges: [
        { source: "start", target: "c" },
        { source: "c", target: "end", branch: "false" },
      ],
    };
    const d = doc(g);
    const edge = d.edges.find((e) => e.source === "c")!;
    const next = insertBetween(d, "transform", edge.id);
    const out = flowToGraph(next.nodes, next.edges);
    expect(out.edges).toContainEqual({ source: "c", target: "transform_1", branch: "false" });
    expect(out.edges).toContainEqual({ source: "transform_1", target: "end" });
    const pos = new Map(next.nodes.map((n) => [n.id, n.position]));
    expect(overlap(pos.get("transform_1")!, pos.get("end")!)).toBe(false);
    expect(overlap(pos.get("transform_1")!, pos.get("c")!)).toBe(false);
    expect(pos.get("end")!.y).toBeGreaterThan(pos.get("transform_1")!.y);
  });

  it("a condition inserted on an edge continues on its true branch", () => {
    const d = doc();
    const next = insertBetween(d, "condition", d.edges[0]!.id);
    expect(flowToGraph(next.nodes, next.edges).edges).toContainEqual({ source: "condition_1", target: "end", branch: "true" });
  });
});

describe("addAfter and addNodeWhere", () => {
  it("adds after a branch output, below its node, connected", () => {
    const d = doc();
    const next = addAfter(d, "delay", "start", null);
    const g = flowToGraph(next.nodes, next.edges);
    expect(g.edges).toContainEqual({ source: "start", target: "delay_1" });
    const pos = new Map(next.nodes.map((n) => [n.id, n.position]));
    for (const id of ["start", "end"]) expect(overlap(pos.get("delay_1")!, pos.get(id)!)).toBe(false);
  });

  it("connects a palette node to the selected node's free output", () => {
    const d = doc();
    d.nodes = d.nodes.map((n) => ({ ...n, selected: n.id === "start" }));
    const next = addNodeWhere(d, "transform", { around: { x: 0, y: 0 } });
    expect(flowToGraph(next.nodes, next.edges).edges).toContainEqual({ source: "start", target: "transform_1" });
    expect(next.nodes.filter((n) => n.selected).map((n) => n.id)).toEqual(["transform_1"]);
  });

  it("without a selection, places the node off every node and off the start → end edge", () => {
    const next = addNodeWhere(doc(), "transform", { around: { x: 0, y: 100 } });
    const p = next.nodes.find((n) => n.id === "transform_1")!.position;
    // Not between start and end, where the edge runs.
    expect(p.x >= 190 || p.y >= 260 + 90 || p.y + 90 <= 90).toBe(true);
    expect(p.x).toBeGreaterThanOrEqual(0);
    expect(next.edges).toHaveLength(1);
  });

  it("the first free output of a condition is false once true is used", () => {
    const g: Graph = {
      nodes: [
        { id: "c", type: "condition", position: { x: 0, y: 0 } },
        { id: "end", type: "end", position: { x: 0, y: 200 } },
      ],
      edges: [{ source: "c", target: "end", branch: "true" }],
    };
    const d = doc(g);
    expect(freeOutput(d.nodes[0]!, d.edges)).toBe("false");
  });
});

describe("layoutDoc", () => {
  it("moves overlapping nodes apart, in layers from the start", () => {
    const g: Graph = {
      nodes: [
        { id: "start", type: "start", position: { x: 10, y: 10 } },
        { id: "a", type: "transform", position: { x: 20, y: 20 } },
        { id: "b", type: "transform", position: { x: 30, y: 30 } },
        { id: "end", type: "end", position: { x: 40, y: 40 } },
      ],
      edges: [
        { source: "start", target: "a" },
        { source: "start", target: "b" },
        { source: "a", target: "end" },
        { source: "b", target: "end" },
      ],
    };
    const next = layoutDoc(doc(g));
    const pos = new Map(next.nodes.map((n) => [n.id, n.position]));
    const ids = ["start", "a", "b", "end"];
    for (const x of ids) for (const y of ids) if (x < y) expect(overlap(pos.get(x)!, pos.get(y)!)).toBe(false);
    expect(pos.get("a")!.y).toBe(pos.get("b")!.y);
    expect(pos.get("start")!.y).toBeLessThan(pos.get("a")!.y);
    expect(pos.get("end")!.y).toBeGreaterThan(pos.get("a")!.y);
  });
});
