// The path a run took, for the canvas: edges it went along are highlighted, the branches it
// did not take are dimmed (and so lose their branch colour), and so are the steps it never
// reached once it is over.
import type { NodeRunStatus } from "../api/types";

export type EdgeRun = "taken" | "untaken" | null;

const REACHED: ReadonlySet<string> = new Set(["running", "completed", "failed"]);

export function reached(status: NodeRunStatus | string | undefined): boolean {
  return status !== undefined && REACHED.has(status);
}

/**
 * How the run went along one edge. An edge was taken when its target was reached and its
 * source finished the way the edge leaves it: an error edge from a failed source, any
 * other edge from a completed one (for a condition, the branch whose target ran). While
 * the run goes on, an edge whose target is not reached yet is undecided (null).
 */
export function edgeRun(
  edge: { source: string; target: string; sourceHandle?: string | null },
  states: Record<string, { status: NodeRunStatus | string }>,
  over: boolean,
): EdgeRun {
  const source = states[edge.source]?.status;
  const target = states[edge.target]?.status;
  const isError = edge.sourceHandle === "error";
  const sourceDone = isError ? source === "failed" : source === "completed";
  if (sourceDone && reached(target)) return "taken";
  if (over) return "untaken";
  // A source that finished another way, or a skipped target: this edge will not be taken.
  if (source === "completed" || source === "failed" || source === "skipped") {
    if (target === "skipped" || (sourceDone && target !== undefined && target !== "pending")) return "untaken";
    if (!sourceDone) return "untaken";
  }
  return null;
}

/** The class name of an edge with the run's mark, replacing an earlier mark. */
export function withRunClass(className: string | undefined, run: EdgeRun): string | undefined {
  const base = (className ?? "").replace(/\s*edge-(taken|untaken)\b/g, "").trim();
  const next = run ? `${base} edge-${run}`.trim() : base;
  return next || undefined;
}

type States = Record<string, { status: NodeRunStatus | string; started_at?: string | null }>;

/**
 * The run's mark of every edge (by id). A condition (or any node with branches) takes one
 * branch: when the targets of several of its branches were reached (one of them also by
 * another path), the branch whose target started first is the one taken.
 */
export function runEdges(
  edges: { id: string; source: string; target: string; sourceHandle?: string | null }[],
  states: States,
  over: boolean,
): Map<string, EdgeRun> {
  const out = new Map<string, EdgeRun>();
  for (const e of edges) out.set(e.id, edgeRun(e, states, over));
  const branchy = new Map<string, typeof edges>();
  for (const e of edges) {
    if (e.sourceHandle === "true" || e.sourceHandle === "false") branchy.set(e.source, [...(branchy.get(e.source) ?? []), e]);
  }
  for (const group of branchy.values()) {
    const taken = group.filter((e) => out.get(e.id) === "taken");
    if (taken.length < 2) continue;
    const start = (e: (typeof edges)[number]) => Date.parse(states[e.target]?.started_at ?? "") || Infinity;
    const first = taken.reduce((a, b) => (start(b) < start(a) ? b : a));
    const firstHandle = first.sourceHandle;
    for (const e of taken) if (e.sourceHandle !== firstHandle) out.set(e.id, "untaken");
  }
  return out;
}
