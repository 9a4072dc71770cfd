// What the project's worker is doing, which actions make sense now, and why a failed one failed.
import type { Project, Worker } from "../api/types";
import type { Tone } from "./status";

export type WorkerKind =
  | "loading"
  | "nothing_deployed"
  | "idle"
  | "starting"
  | "running"
  | "stopping"
  | "stopped"
  | "failed";

export interface WorkerFailure {
  /** Why, in the registry's words. */
  reason: string;
  /** When it failed (ISO), if known. */
  at: string | null;
  /** The last lines the worker wrote to stderr. */
  stderr: string[];
}

export interface WorkerState {
  kind: WorkerKind;
  tone: Tone;
  label: string;
  /** The registry row the state is about, if any. */
  worker: Worker | null;
  failure: WorkerFailure | null;
  /** Why each action is not offered now; absent when it is. */
  disabled: { start?: string; stop?: string; restart?: string };
}

export const NOTHING_DEPLOYED = "no workflow deployed yet";
export const STDERR_LINES = 12;

const ACTIVE: ReadonlySet<string> = new Set(["starting", "running", "stopping"]);

function startedMs(w: Worker): number {
  const t = Date.parse(w.started_at ?? w.last_heartbeat ?? w.stopped_at ?? "");
  return Number.isNaN(t) ? 0 : t;
}

function text(value: unknown): string | null {
  return typeof value === "string" && value.trim() ? value.trim() : null;
}

/** The reason, time and last stderr lines of a failed registry row. */
export function failureOf(w: Worker): WorkerFailure {
  const meta = w.metadata ?? {};
  const reason = text(meta["error"]) ?? text(meta["last_error"]) ?? text(meta["reason"]) ?? "no reason was recorded";
  const tail = text(meta["stderr_tail"]);
  const stderr = tail ? tail.split(/\r?\n/).filter((l) => l.trim() !== "").slice(-STDERR_LINES) : [];
  return { reason, at: w.stopped_at ?? w.last_heartbeat ?? w.started_at, stderr };
}

const TONES: Record<WorkerKind, Tone> = {
  loading: "grey",
  nothing_deployed: "grey",
  idle: "grey",
  starting: "yellow",
  running: "green",
  stopping: "yellow",
  stopped: "grey",
  failed: "red",
};

const LABELS: Record<WorkerKind, string> = {
  loading: "checking…",
  nothing_deployed: NOTHING_DEPLOYED,
  idle: "idle (scaled to zero)",
  starting: "starting",
  running: "running",
  stopping: "stopping",
  stopped: "stopped",
  failed: "failed",
};

function kindOf(project: Pick<Project, "workers" | "deployed_workflow_count">, worker: Worker | null): WorkerKind {
  if (worker && ACTIVE.has(worker.status)) return worker.status as WorkerKind;
  // No worker runs, and none can: whatever an earlier one did is history.
  if ((project.deployed_workflow_count ?? 1) < 1) return "nothing_deployed";
  if (!worker) return "idle";
  if (worker.status === "stopped") return worker.metadata?.["reason"] === "idle" ? "idle" : "stopped";
  return "failed";
}

function disabledFor(kind: WorkerKind): WorkerState["disabled"] {
  const none = "No worker is running.";
  switch (kind) {
    case "loading":
      return { start: "Loading the worker's state…", stop: "Loading the worker's state…", restart: "Loading the worker's state…" };
    case "nothing_deployed": {
      const why = "No workflow deployed yet: build or deploy a workflow first.";
      return { start: why, stop: none, restart: why };
    }
    case "starting":
      return { start: "The worker is starting.", restart: "The worker is starting." };
    case "running":
      return { start: "The worker is already running." };
    case "stopping": {
      const why = "The worker is stopping.";
      return { start: why, stop: why, restart: why };
    }
    default: // idle, stopped, failed: nothing runs, so it can only be started
      return { stop: none, restart: none };
  }
}

/** The project's worker state; `undefined` while the project is loading. */
export function workerState(project: Pick<Project, "workers" | "deployed_workflow_count"> | undefined | null): WorkerState {
  if (!project) {
    return { kind: "loading", tone: "grey", label: LABELS.loading, worker: null, failure: null, disabled: disabledFor("loading") };
  }
  const rows = [...(project.workers ?? [])].sort((a, b) => startedMs(b) - startedMs(a));
  const worker = rows.find((w) => ACTIVE.has(w.status)) ?? rows[0] ?? null;
  const kind = kindOf(project, worker);
  return {
    kind,
    tone: TONES[kind],
    label: LABELS[kind],
    worker: kind === "nothing_deployed" ? null : worker,
    failure: kind === "failed" && worker ? failureOf(worker) : null,
    disabled: disabledFor(kind),
  };
}
