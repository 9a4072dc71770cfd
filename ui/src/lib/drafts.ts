// Drafts of the builder kept in this browser (localStorage) until they are saved, so that a
// closed tab or a crash loses nothing; restored on the next visit with a notice.
import type { Graph } from "../api/types";

export interface Draft {
  graph: Graph;
  /** The saved graph the draft was made from (JSON), to say whether it still applies. */
  base: string;
  savedAt: number;
}

const PREFIX = "runloom.draft.";

function storage(): Storage | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null;
  }
}

export function draftKey(workflowId: string): string {
  return PREFIX + workflowId;
}

export function loadDraft(workflowId: string): Draft | null {
  const raw = storage()?.getItem(draftKey(workflowId));
  if (!raw) return null;
  try {
    const d = JSON.parse(raw) as Partial<Draft>;
    if (!d.graph || !Array.isArray(d.graph.nodes) || !Array.isArray(d.graph.edges)) return null;
    return { graph: d.graph, base: typeof d.base === "string" ? d.base : "", savedAt: typeof d.savedAt === "number" ? d.savedAt : 0 };
  } catch {
    return null;
  }
}

/** Keeps the draft; false when the browser refuses (private mode, full storage). */
export function storeDraft(workflowId: string, graph: Graph, base: string, now = Date.now()): boolean {
  const s = storage();
  if (!s) return false;
  try {
    s.setItem(draftKey(workflowId), JSON.stringify({ graph, base, savedAt: now } satisfies Draft));
    return true;
  } catch {
    return false;
  }
}

export function clearDraft(workflowId: string): void {
  try {
    storage()?.removeItem(draftKey(workflowId));
  } catch {
    // Nothing to do: the draft stays until it can be removed.
  }
}

/** The draft to restore over `saved` (JSON of the saved graph): one that differs from it. */
export function draftToRestore(workflowId: string, saved: string): Draft | null {
  const d = loadDraft(workflowId);
  if (!d) return null;
  if (JSON.stringify(d.graph) === saved) {
    clearDraft(workflowId);
    return null;
  }
  return d;
}
