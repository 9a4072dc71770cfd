import { describe, expect, it } from "vitest";
import { ancestorsOf, connectTargets, upstreamOf } from "./connectTargets";

const nodes = ["start", "a", "b", "c", "end"].map((id) => ({ id }));
const edges = [
  { source: "start", target: "a" },
  { source: "a", target: "b" },
  { source: "b", target: "end" },
];
const hasInput = (n: { id: string }) => n.id !== "start";

describe("connectTargets", () => {
  it("finds every ancestor", () => {
    expect([...ancestorsOf("b", edges)].sort()).toEqual(["a", "start"]);
  });
  it("offers neither upstream nodes nor targets already connected", () => {
    expect(connectTargets("b", nodes, edges, hasInput).map((n) => n.id)).toEqual(["c"]);
    expect(connectTargets("a", nodes, edges, hasInput).map((n) => n.id)).toEqual(["c", "end"]);
  });
  it("offers nodes without an input to nobody", () => {
    expect(connectTargets("c", nodes, edges, hasInput).map((n) => n.id)).toEqual(["a", "b", "end"]);
  });
});

describe("upstreamOf", () => {
  it("lists every node that runs before, sorted, without the node itself", () => {
    const graph = [
      { source: "start", target: "b" },
      { source: "start", target: "a" },
      { source: "a", target: "c" },
      { source: "b", target: "c" },
      { source: "c", target: "end" },
    ];
    expect(upstreamOf("c", graph)).toEqual(["a", "b", "start"]);
    expect(upstreamOf("start", graph)).toEqual([]);
  });
});
