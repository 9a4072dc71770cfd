// What changed between two versions' graphs: nodes and their fields added, removed or changed.
import type { Graph, GraphEdge, GraphNode } from "../api/types";

export type ChangeKind = "added" | "removed" | "changed";

export interface FieldChange {
  /** The field's path in the node, e.g. `config.url` or `retry.maximum_attempts`. */
  path: string;
  kind: ChangeKind;
  before?: unknown;
  after?: unknown;
}

export interface NodeChange {
  id: string;
  kind: ChangeKind;
  type: string;
  fields: FieldChange[];
}

export interface EdgeChange {
  kind: "added" | "removed";
  label: string;
}

export interface GraphDiff {
  nodes: NodeChange[];
  edges: EdgeChange[];
  /** Every node of either version, with its change (none: unchanged). */
  status: Record<string, ChangeKind | undefined>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The leaves (and arrays, compared whole) of a node, keyed by path; positions do not count. */
function fields(node: GraphNode): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const walk = (value: unknown, path: string) => {
    if (isObject(value) && Object.keys(value).length > 0) {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
    } else {
      out.set(path, value);
    }
  };
  const { id: _id, position: _position, ...rest } = node as GraphNode & Record<string, unknown>;
  walk(rest, "");
  return out;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function edgeLabel(e: GraphEdge): string {
  const branch = e.sourceHandle === "error" ? " (on error)" : e.branch ? ` (${e.branch})` : "";
  return `${e.source} → ${e.target}${branch}`;
}

export function diffGraphs(before: Graph, after: Graph): GraphDiff {
  const old = new Map(before.nodes.map((n) => [n.id, n]));
  const now = new Map(after.nodes.map((n) => [n.id, n]));
  const nodes: NodeChange[] = [];
  const status: Record<string, ChangeKind | undefined> = {};
  for (const n of after.nodes) {
    const prev = old.get(n.id);
    if (!prev) {
      nodes.push({ id: n.id, kind: "added", type: n.type, fields: [] });
      status[n.id] = "added";
      continue;
    }
    const a = fields(prev);
    const b = fields(n);
    const changes: FieldChange[] = [];
    for (const [path, value] of b) {
      if (!a.has(path)) changes.push({ path, kind: "added", after: value });
      else if (!same(a.get(path), value)) changes.push({ path, kind: "changed", before: a.get(path), after: value });
    }
    for (const [path, value] of a) if (!b.has(path)) changes.push({ path, kind: "removed", before: value });
    status[n.id] = changes.length > 0 ? "changed" : undefined;
    if (changes.length > 0) nodes.push({ id: n.id, kind: "changed", type: n.type, fields: changes });
  }
  for (const n of before.nodes) {
    if (!now.has(n.id)) {
      nodes.push({ id: n.id, kind: "removed", type: n.type, fields: [] });
      status[n.id] = "removed";
    }
  }
  const oldEdges = new Set(before.edges.map(edgeLabel));
  const newEdges = new Set(after.edges.map(edgeLabel));
  const edges: EdgeChange[] = [
    ...[...newEdges].filter((l) => !oldEdges.has(l)).map((label) => ({ kind: "added" as const, label })),
    ...[...oldEdges].filter((l) => !newEdges.has(l)).map((label) => ({ kind: "removed" as const, label })),
  ];
  return { nodes, edges, status };
}

/** A value as a short line of text for the diff's words. */
export function shortValue(v: unknown, max = 60): string {
  const text = v === undefined ? "(none)" : typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The diff in a sentence: "1 node added, 1 changed, 2 edges removed" (or "No changes"). */
export function diffSentence(d: GraphDiff): string {
  const count = (kind: ChangeKind) => d.nodes.filter((n) => n.kind === kind).length;
  const parts: string[] = [];
  const [added, removed, changed] = [count("added"), count("removed"), count("changed")];
  if (added) parts.push(`${added} node${added === 1 ? "" : "s"} added`);
  if (removed) parts.push(`${removed} node${removed === 1 ? "" : "s"} removed`);
  if (changed) parts.push(`${changed} node${changed === 1 ? "" : "s"} changed`);
  const ea = d.edges.filter((e) => e.kind === "added").length;
  const er = d.edges.length - ea;
  if (ea) parts.push(`${ea} edge${ea === 1 ? "" : "s"} added`);
  if (er) parts.push(`${er} edge${er === 1 ? "" : "s"} removed`);
  return parts.length ? parts.join(", ") : "No changes to the graph";
}
