// Edits of the builder's document that add nodes where the user acted: after a node's output,
// on an edge (between its two ends), at a dropped spot, or laid out as a whole. Pure: each
// takes the document and returns the next one.
import type { Branch, NodeType } from "../api/types";
import { canConnect, edgeKindProps, ERROR_HANDLE, NODE_HEIGHT, NODE_WIDTH, type StepEdge, type StepNode } from "./graph";
import { freeSpotNear, insertOnEdge, layoutGraph, spotAfter, type Box, type Link } from "./layout";
import { NODE_TYPES, newNodeId } from "./nodeTypes";

export interface Doc {
  nodes: StepNode[];
  edges: StepEdge[];
}

/** An output of a node: a branch, the plain output ("next" on nodes with branches), or on error. */
export type Output = Branch | "next" | "error" | null;

export function newEdgeId(): string {
  return `e-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/** The edge from `source`'s output `handle` to `target`, displayed as its kind requires. */
export function makeEdge(source: string, target: string, handle: Output): StepEdge {
  const isBranch = handle === "true" || handle === "false" || handle === "timeout";
  return {
    id: newEdgeId(),
    source,
    target,
    type: "smoothstep",
    ...(handle ? { sourceHandle: handle } : {}),
    ...(isBranch ? { label: handle, className: `edge-${handle}` } : {}),
    ...(handle === ERROR_HANDLE ? edgeKindProps("error") : {}),
  };
}

function boxes(nodes: StepNode[]): Box[] {
  return nodes.map((n) => ({ id: n.id, position: n.position, width: n.measured?.width, height: n.measured?.height }));
}

function links(edges: StepEdge[]): Link[] {
  return edges.map((e) => ({ source: e.source, target: e.target, handle: e.sourceHandle ?? null }));
}

function newNode(type: NodeType, nodes: StepNode[], position: { x: number; y: number }): StepNode {
  return {
    id: newNodeId(type, nodes.map((n) => n.id)),
    type: "step",
    position,
    selected: true,
    data: { kind: type, config: NODE_TYPES[type].defaults() },
  };
}

function unselect(doc: Doc): Doc {
  return {
    nodes: doc.nodes.map((n) => (n.selected ? { ...n, selected: false } : n)),
    edges: doc.edges.map((e) => (e.selected ? { ...e, selected: false } : e)),
  };
}

/** The outputs of a node as handles: `null` for a lone plain output, else "next" or the branch. */
export function outputsOf(kind: NodeType): Output[] {
  const outs = NODE_TYPES[kind].outputs;
  if (outs.length === 1 && outs[0] === null) return [null];
  return outs.map((b) => b ?? "next");
}

/** The output of `node` a new step is best attached to: the first one without an edge. */
export function freeOutput(node: StepNode, edges: StepEdge[]): Output | undefined {
  const outs = outputsOf(node.data.kind);
  if (outs.length === 0) return undefined;
  const used = new Set(edges.filter((e) => e.source === node.id).map((e) => e.sourceHandle ?? null));
  return outs.find((o) => !used.has(o)) ?? outs[0];
}

/** The node types that may be added after an output (anything with an input). */
export function typesAfter(): NodeType[] {
  return (Object.keys(NODE_TYPES) as NodeType[]).filter((t) => NODE_TYPES[t].hasInput);
}

/** The node types that may be inserted on an edge (an input and a plain or branch output). */
export function typesBetween(): NodeType[] {
  return typesAfter().filter((t) => NODE_TYPES[t].outputs.length > 0);
}

/** Adds a `type` node after `sourceId`'s `handle`, connected to it, below it; selects it. */
export function addAfter(doc: Doc, type: NodeType, sourceId: string, handle: Output): Doc {
  const source = doc.nodes.find((n) => n.id === sourceId);
  if (!source) return doc;
  const outs = outputsOf(source.data.kind);
  const index = Math.max(0, outs.indexOf(handle));
  const position = spotAfter(boxes(doc.nodes), links(doc.edges), sourceId, index, outs.length, handle === ERROR_HANDLE);
  const base = unselect(doc);
  const node = newNode(type, doc.nodes, position);
  const edge = makeEdge(sourceId, node.id, handle);
  const nodes = [...base.nodes, node];
  if (!canConnect(base.edges, nodes, edge)) return { nodes, edges: base.edges };
  return { nodes, edges: [...base.edges, edge] };
}

/**
 * Inserts a `type` node on edge `edgeId`: the edge is replaced by source → new (on the same
 * output) and new → target (on the new node's first output); what follows moves down to make
 * room. Selects the new node.
 */
export function insertBetween(doc: Doc, type: NodeType, edgeId: string): Doc {
  const edge = doc.edges.find((e) => e.id === edgeId);
  const outs = outputsOf(type);
  if (!edge || outs.length === 0 || !NODE_TYPES[type].hasInput) return doc;
  const { position, moved } = insertOnEdge(boxes(doc.nodes), links(doc.edges), edge.source, edge.target);
  const base = unselect(doc);
  const node = newNode(type, doc.nodes, position);
  const nodes = [...base.nodes.map((n) => (moved.has(n.id) ? { ...n, position: moved.get(n.id)! } : n)), node];
  const handle = (edge.sourceHandle ?? null) as Output;
  const first = makeEdge(edge.source, node.id, handle);
  const second = makeEdge(node.id, edge.target, outs[0] ?? null);
  const edges = base.edges.flatMap((e) => (e.id === edgeId ? [first, second] : [e]));
  return { nodes, edges };
}

/**
 * Adds a `type` node at `position` (a drop), or when none is given after the selected node
 * (connected to its first free output), else at a free spot near `around`. Selects it.
 */
export function addNodeWhere(doc: Doc, type: NodeType, where: { position?: { x: number; y: number }; around: { x: number; y: number } }): Doc {
  const selected = doc.nodes.find((n) => n.selected);
  const handle = selected && type !== "start" ? freeOutput(selected, doc.edges) : undefined;
  if (!where.position && selected && handle !== undefined) return addAfter(doc, type, selected.id, handle);
  const position = where.position ?? freeSpotNear(boxes(doc.nodes), links(doc.edges), where.around);
  const base = unselect(doc);
  const node = newNode(type, doc.nodes, position);
  const nodes = [...base.nodes, node];
  if (selected && handle !== undefined) {
    const edge = makeEdge(selected.id, node.id, handle);
    if (canConnect(base.edges, nodes, edge)) return { nodes, edges: [...base.edges, edge] };
  }
  return { nodes, edges: base.edges };
}

/** Every node moved to where the automatic layout puts it (measured sizes where known). */
export function layoutDoc(doc: Doc): Doc {
  const pos = layoutGraph(boxes(doc.nodes), links(doc.edges));
  return {
    nodes: doc.nodes.map((n) => {
      const p = pos.get(n.id);
      return p && (p.x !== n.position.x || p.y !== n.position.y) ? { ...n, position: p } : n;
    }),
    edges: doc.edges,
  };
}

export { NODE_HEIGHT, NODE_WIDTH };
