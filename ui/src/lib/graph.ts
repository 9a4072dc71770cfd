// Conversion between the stored workflow graph (DESIGN.md) and React Flow's nodes/edges.
import type { Edge, Node } from "@xyflow/react";
import type { Branch, Graph, GraphEdge, GraphNode, NodeRunStatus, NodeType, RetryPolicy } from "../api/types";
import { layoutGraph, needsLayout } from "./layout";
import { NODE_TYPES, isNodeType } from "./nodeTypes";

export interface StepData extends Record<string, unknown> {
  kind: NodeType;
  config: Record<string, unknown>;
  retry?: RetryPolicy;
  timeout_s?: number;
  local?: boolean;
  /** Compile problems that concern this node (display only, never saved). */
  problems?: string[];
  /** State of this node in the run being watched (display only, never saved). */
  runStatus?: NodeRunStatus;
  runError?: string | null;
  runAttempt?: number | null;
  /** The step inspector shows this node (display only, never saved). */
  runInspected?: boolean;
}

export type StepNode = Node<StepData>;
export type StepEdge = Edge;

const BRANCHES: readonly string[] = ["true", "false", "timeout"];

export function isBranch(value: unknown): value is Branch {
  return typeof value === "string" && BRANCHES.includes(value);
}

export function edgeId(edge: GraphEdge, index: number): string {
  const handle = isErrorEdge(edge) ? ERROR_HANDLE : (edge.branch ?? "next");
  return `e${index}-${edge.source}-${handle}-${edge.target}`;
}

/** The handle of error edges: taken when an activity node fails after its retries. */
export const ERROR_HANDLE = "error";
export const ERROR_LABEL = "on error";

/** Node types that may have an error edge (the activities that can fail: python, http). */
export const ERROR_EDGE_TYPES: ReadonlySet<NodeType> = new Set<NodeType>(["python", "http_request"]);

export function hasErrorHandle(kind: NodeType): boolean {
  return ERROR_EDGE_TYPES.has(kind);
}

/** Is this an error edge (as the canvas holds it, or as a stored graph writes it)? */
export function isErrorEdge(edge: { sourceHandle?: string | null; branch?: string | null }): boolean {
  return edge.sourceHandle === ERROR_HANDLE || edge.branch === ERROR_HANDLE;
}

/** The display of an edge of either kind: an error edge is red, dashed and labelled. */
export function edgeKindProps(kind: "normal" | "error"): Pick<StepEdge, "sourceHandle" | "label" | "className"> {
  if (kind === "error") return { sourceHandle: ERROR_HANDLE, label: ERROR_LABEL, className: "edge-error" };
  return { sourceHandle: null, label: undefined, className: undefined };
}

export function toFlowEdge(edge: GraphEdge, index: number): StepEdge {
  const flow: StepEdge = {
    id: edgeId(edge, index),
    source: edge.source,
    target: edge.target,
    type: "smoothstep",
  };
  if (isErrorEdge(edge)) {
    Object.assign(flow, edgeKindProps("error"));
  } else if (edge.branch) {
    flow.sourceHandle = edge.branch;
    flow.label = edge.branch;
    flow.className = `edge-${edge.branch}`;
  }
  return flow;
}

/** The stored graph as React Flow nodes and edges; nodes without a position are laid out. */
export function graphToFlow(graph: Graph | null | undefined): { nodes: StepNode[]; edges: StepEdge[] } {
  const g: Graph = { nodes: graph?.nodes ?? [], edges: graph?.edges ?? [] };
  // Imported graphs (no positions, or all in one spot) are laid out as a whole.
  const layout = needsLayout(g.nodes.map((n) => n.position)) ? autoLayout(g) : new Map<string, { x: number; y: number }>();
  const nodes: StepNode[] = g.nodes.map((n) => {
    const data: StepData = {
      kind: isNodeType(n.type) ? n.type : "transform",
      config: { ...(n.config ?? {}) },
    };
    if (n.retry) data.retry = { ...n.retry };
    if (n.timeout_s !== undefined && n.timeout_s !== null) data.timeout_s = n.timeout_s;
    if (n.local !== undefined && n.local !== null) data.local = n.local;
    return {
      id: n.id,
      type: "step",
      position: layout.get(n.id) ?? (n.position ? { x: n.position.x, y: n.position.y } : { x: 0, y: 0 }),
      data,
    };
  });
  const multi = new Set(nodes.filter((n) => NODE_TYPES[n.data.kind].outputs.length > 1).map((n) => n.id));
  const edges = g.edges.map((e, i) => {
    const flow = toFlowEdge(e, i);
    // Nodes with several outputs name their plain output "next".
    if (!e.branch && !isErrorEdge(e) && multi.has(e.source)) flow.sourceHandle = "next";
    return flow;
  });
  return { nodes, edges };
}

/** React Flow state back to the stored graph: display-only fields are dropped. */
export function flowToGraph(nodes: StepNode[], edges: StepEdge[]): Graph {
  const graphNodes: GraphNode[] = nodes.map((n) => {
    const out: GraphNode = {
      id: n.id,
      type: n.data.kind,
      position: { x: Math.round(n.position.x), y: Math.round(n.position.y) },
    };
    if (n.data.config && Object.keys(n.data.config).length > 0) out.config = { ...n.data.config };
    if (NODE_TYPES[n.data.kind]?.activity) {
      if (n.data.retry && Object.keys(n.data.retry).length > 0) out.retry = { ...n.data.retry };
      if (n.data.timeout_s !== undefined) out.timeout_s = n.data.timeout_s;
      if (n.data.local !== undefined) out.local = n.data.local;
    }
    return out;
  });
  const graphEdges: GraphEdge[] = edges.map((e) => {
    const out: GraphEdge = { source: e.source, target: e.target };
    if (isBranch(e.sourceHandle)) out.branch = e.sourceHandle;
    else if (e.sourceHandle === ERROR_HANDLE) out.sourceHandle = ERROR_HANDLE;
    return out;
  });
  return { nodes: graphNodes, edges: graphEdges };
}

/** Layered layout from the roots down (dagre), for graphs made without the canvas. */
export function autoLayout(graph: Graph): Map<string, { x: number; y: number }> {
  return layoutGraph(
    graph.nodes.map((n) => ({ id: n.id, position: { x: 0, y: 0 } })),
    graph.edges.map((e) => ({ source: e.source, target: e.target, handle: e.branch ?? (isErrorEdge(e) ? ERROR_HANDLE : null) })),
  );
}

/** Is `connection` allowed? No self loops, no duplicates, one edge per branch handle. */
export function canConnect(
  edges: StepEdge[],
  nodes: StepNode[],
  connection: { source: string | null; target: string | null; sourceHandle?: string | null },
): boolean {
  const { source, target } = connection;
  if (!source || !target || source === target) return false;
  const targetNode = nodes.find((n) => n.id === target);
  if (targetNode && !NODE_TYPES[targetNode.data.kind].hasInput) return false;
  const handle = connection.sourceHandle ?? null;
  if (handle === ERROR_HANDLE) {
    // One error path per node, and only from the activities that can fail.
    const sourceNode = nodes.find((n) => n.id === source);
    if (sourceNode && !hasErrorHandle(sourceNode.data.kind)) return false;
    if (edges.some((e) => e.source === source && e.sourceHandle === ERROR_HANDLE)) return false;
  }
  return !edges.some(
    (e) => e.source === source && e.target === target && (e.sourceHandle ?? null) === handle,
  );
}

/** Marks compile problems on the nodes and edges they concern; returns problems matched to nothing. */
export function applyProblems<T extends { message: string; node_id?: string | null; edge_index?: number | null }>(
  nodes: StepNode[],
  edges: StepEdge[],
  problems: T[],
): { nodes: StepNode[]; edges: StepEdge[] } {
  const byNode = new Map<string, string[]>();
  const badEdges = new Set<number>();
  for (const p of problems) {
    if (p.node_id) byNode.set(p.node_id, [...(byNode.get(p.node_id) ?? []), p.message]);
    if (typeof p.edge_index === "number") badEdges.add(p.edge_index);
  }
  return {
    nodes: nodes.map((n) => {
      const msgs = byNode.get(n.id);
      if (!msgs && !n.data.problems) return n;
      const data = { ...n.data };
      if (msgs) data.problems = msgs;
      else delete data.problems;
      return { ...n, data };
    }),
    edges: edges.map((e, i) => {
      const bad = badEdges.has(i);
      const base = (e.className ?? "").replace(/\s*edge-problem/g, "").trim();
      const className = bad ? `${base} edge-problem`.trim() : base;
      return className === (e.className ?? "") ? e : { ...e, className: className || undefined };
    }),
  };
}

export const NODE_WIDTH = 190;
export const NODE_HEIGHT = 90;

/** The first spot near `around` where a new node overlaps none of `nodes`. */
export function freeSpot(nodes: { position: { x: number; y: number } }[], around: { x: number; y: number }): { x: number; y: number } {
  const overlaps = (x: number, y: number) =>
    nodes.some((n) => Math.abs(n.position.x - x) < NODE_WIDTH + 20 && Math.abs(n.position.y - y) < NODE_HEIGHT + 20);
  for (let ring = 0; ring < 12; ring += 1) {
    for (const dx of [0, 1, -1, 2, -2]) {
      const x = around.x + dx * (NODE_WIDTH + 30);
      const y = around.y + ring * (NODE_HEIGHT + 30);
      if (!overlaps(x, y)) return { x, y };
    }
  }
  return { x: around.x, y: around.y + 12 * (NODE_HEIGHT + 30) };
}
