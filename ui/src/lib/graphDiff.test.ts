import { describe, expect, it } from "vitest";
import type { Graph } from "../api/types";
import { diffGraphs, diffSentence } from "./graphDiff";

const v1: Graph = {
  nodes: [
    { id: "start", type: "start", position: { x: 0, y: 0 } },
    { id: "fetch", type: "http_request", config: { method: "GET", url: "https://a.example" } },
    { id: "end", type: "end" },
  ],
  edges: [
    { source: "start", target: "fetch" },
    { source: "fetch", target: "end" },
  ],
};

describe("graph diff", () => {
  it("names added, removed and changed nodes and fields; positions do not count", () => {
    const v2: Graph = {
      nodes: [
        { id: "start", type: "start", position: { x: 300, y: 50 } },
        { id: "fetch", type: "http_request", config: { method: "POST", url: "https://a.example" }, timeout_s: 5 },
        { id: "shape", type: "transform", config: { output: "x" } },
        { id: "end", type: "end" },
      ],
      edges: [
        { source: "start", target: "fetch" },
        { source: "fetch", target: "shape" },
        { source: "shape", target: "end" },
      ],
    };
    const d = diffGraphs(v1, v2);
    expect(d.status).toEqual({ start: undefined, fetch: "changed", shape: "added", end: undefined });
    const fetch = d.nodes.find((n) => n.id === "fetch");
    expect(fetch?.fields).toEqual([
      { path: "config.method", kind: "changed", before: "GET", after: "POST" },
      { path: "timeout_s", kind: "added", after: 5 },
    ]);
    expect(d.edges.map((e) => `${e.kind} ${e.label}`)).toEqual([
      "added fetch → shape",
      "added shape → end",
      "removed fetch → end",
    ]);
    expect(diffSentence(d)).toBe("1 node added, 1 node changed, 2 edges added, 1 edge removed");
    expect(diffGraphs(v2, v1).status.shape).toBe("removed");
  });

  it("finds no change between equal graphs", () => {
    expect(diffSentence(diffGraphs(v1, structuredClone(v1)))).toBe("No changes to the graph");
  });
});
