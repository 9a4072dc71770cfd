// Colours and labels of execution, node and worker states.
import type { ExecutionStatus, NodeRunStatus, Worker, WorkerStatus } from "../api/types";

export type Tone = "green" | "yellow" | "red" | "grey" | "blue";

export const TONE_COLOURS: Record<Tone, string> = {
  green: "#16a34a",
  yellow: "#d97706",
  red: "#dc2626",
  grey: "#9ca3af",
  blue: "#2563eb",
};

export const EXECUTION_STATUSES: ExecutionStatus[] = [
  "pending",
  "running",
  "completed",
  "failed",
  "cancelled",
  "terminated",
  "timed_out",
];

export const TERMINAL_STATUSES: ReadonlySet<ExecutionStatus> = new Set([
  "completed",
  "failed",
  "cancelled",
  "terminated",
  "timed_out",
]);

export function isTerminal(status: ExecutionStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

export function executionTone(status: ExecutionStatus | string): Tone {
  switch (status) {
    case "completed":
      return "green";
    case "running":
      return "blue";
    case "pending":
      return "yellow";
    case "failed":
    case "terminated":
    case "timed_out":
      return "red";
    default:
      return "grey";
  }
}

export function nodeTone(status: NodeRunStatus | undefined): Tone {
  switch (status) {
    case "completed":
      return "green";
    case "running":
      return "blue";
    case "failed":
      return "red";
    case "pending":
      return "yellow";
    default:
      return "grey";
  }
}

export function statusLabel(status: string): string {
  return status.replace(/_/g, " ");
}

export interface WorkerSummary {
  tone: Tone;
  label: string;
  /** The row the summary is about (the active one, else the latest), if any. */
  worker: Worker | null;
}

const ACTIVE: ReadonlySet<string> = new Set(["starting", "running", "stopping"]);

/** Colour of one registry row's state (the seed's dots; idle rows are handled by the summary). */
export function workerTone(status: WorkerStatus | string): Tone {
  switch (status) {
    case "running":
      return "green";
    case "starting":
    case "stopping":
      return "yellow";
    case "failed":
    case "stopped":
      return "red";
    default:
      return "grey";
  }
}

function startedMs(w: Worker): number {
  const t = Date.parse(w.started_at ?? w.last_heartbeat ?? "");
  return Number.isNaN(t) ? 0 : t;
}

/**
 * The project's worker state as the builder's dot shows it (seed: green running, yellow
 * starting, red stopped or failed; grey when scaled to zero for lack of work).
 */
export function summarizeWorkers(workers: Worker[] | null | undefined): WorkerSummary {
  const rows = [...(workers ?? [])].sort((a, b) => startedMs(b) - startedMs(a));
  const active = rows.find((w) => ACTIVE.has(w.status));
  const worker = active ?? rows[0] ?? null;
  if (!worker) return { tone: "grey", label: "idle (scaled to zero)", worker: null };
  if (worker.status === "stopped" && worker.metadata && worker.metadata["reason"] === "idle") {
    return { tone: "grey", label: "idle (scaled to zero)", worker };
  }
  return { tone: workerTone(worker.status), label: String(worker.status), worker };
}
