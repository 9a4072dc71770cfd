import { useEffect, useId, useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ApiError, request } from "../api/client";
import { keys, type WorkerAction } from "../api/hooks";
import type { Project } from "../api/types";
import { formatDate, formatNumber, formatRelative } from "../lib/format";
import { workerState, type WorkerFailure, type WorkerState } from "../lib/workerState";
import { StatusDot } from "./ui";

/** How long a worker request may take before the UI stops waiting (the server waits 15 s). */
export const WORKER_ACTION_TIMEOUT_MS = 25_000;

/** Why a worker failed, when, and the last lines it wrote to stderr. */
export function WorkerFailureDetails({ failure }: { failure: WorkerFailure }) {
  return (
    <div className="worker-failure" role="group" aria-label="Why the worker failed">
      <p className="text-error small">
        <strong>Failed</strong>
        {failure.at && (
          <>
            {" "}
            <time dateTime={failure.at} title={formatDate(failure.at)}>
              {formatRelative(failure.at)}
            </time>
          </>
        )}
        : {failure.reason}
      </p>
      {failure.stderr.length > 0 && (
        <pre className="code-block worker-stderr" aria-label="Last lines of the worker's stderr" tabIndex={0}>
          {failure.stderr.join("\n")}
        </pre>
      )}
    </div>
  );
}

/** The project's worker: a coloured badge; click for its details and controls. */
export function WorkerIndicator({ project, projectId }: { project: Project | undefined; projectId?: string }) {
  const [open, setOpen] = useState(false);
  const state = workerState(project);
  const w = state.worker;
  return (
    <div className="worker-indicator">
      <button
        type="button"
        className="worker-button"
        aria-label={`Worker: ${state.label}`}
        aria-expanded={open}
        aria-busy={state.kind === "loading" || undefined}
        data-worker-status={state.label}
        data-worker-kind={state.kind}
        data-tone={state.tone}
        onClick={() => setOpen((o) => !o)}
      >
        <StatusDot tone={state.tone} pulse={state.tone === "yellow"} />
        <span>Worker {state.label}</span>
      </button>
      {open && (
        <div className="popover" role="dialog" aria-label="Worker details">
          <div className="popover-title">
            <StatusDot tone={state.tone} /> Worker {state.label}
          </div>
          {state.failure && <WorkerFailureDetails failure={state.failure} />}
          {w ? (
            <dl className="kv">
              <dt>Worker id</dt>
              <dd className="mono">{w.worker_id}</dd>
              <dt>Host</dt>
              <dd>{w.host ?? "—"}</dd>
              <dt>PID</dt>
              <dd>{w.process_id ?? "—"}</dd>
              <dt>Started</dt>
              <dd>{formatDate(w.started_at)}</dd>
              <dt>Last heartbeat</dt>
              <dd>{formatRelative(w.last_heartbeat)}</dd>
              <dt>Memory</dt>
              <dd>{w.memory_usage_mb === null ? "—" : `${w.memory_usage_mb.toFixed(1)} MB`}</dd>
              <dt>CPU</dt>
              <dd>{w.cpu_usage_percent === null ? "—" : `${w.cpu_usage_percent.toFixed(1)} %`}</dd>
              <dt>Tasks</dt>
              <dd>
                {formatNumber(w.total_tasks_completed)} completed · {formatNumber(w.total_tasks_failed)} failed
              </dd>
              {w.stopped_at && (
                <>
                  <dt>Stopped</dt>
                  <dd>{formatDate(w.stopped_at)}</dd>
                </>
              )}
            </dl>
          ) : (
            <p className="muted">{emptyText(state)}</p>
          )}
          {project && (projectId ?? project.id) && <WorkerControls project={project} />}
        </div>
      )}
    </div>
  );
}

function emptyText(state: WorkerState): string {
  if (state.kind === "loading") return "Loading the worker's state…";
  if (state.kind === "nothing_deployed") {
    return "No workflow deployed yet, so there is no worker. Build or deploy a workflow and its worker starts.";
  }
  return "No worker is running for this project. One starts on the next Build or run, or start it now.";
}

const DONE: Record<WorkerAction, string> = {
  start: "Worker started.",
  stop: "Stop requested.",
  restart: "Restart requested.",
};

async function sendAction(projectId: string, action: WorkerAction): Promise<void> {
  const controller = new AbortController();
  const timer = window.setTimeout(() => controller.abort(), WORKER_ACTION_TIMEOUT_MS);
  try {
    await request<unknown>(`/api/projects/${projectId}/workers/${action}`, {
      method: "POST",
      body: {},
      signal: controller.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") {
      throw new Error(
        `No answer to “${action}” within ${WORKER_ACTION_TIMEOUT_MS / 1000} s. The worker may still be coming up: its state here updates by itself.`,
      );
    }
    if (err instanceof ApiError) throw new Error(err.message);
    throw err;
  } finally {
    window.clearTimeout(timer);
  }
}

/** Start, Stop and Restart, each enabled only when it makes sense for the worker's state. */
export function WorkerControls({ project, compact }: { project: Project; compact?: boolean }) {
  const qc = useQueryClient();
  const state = workerState(project);
  const [last, setLast] = useState<WorkerAction | null>(null);
  const action = useMutation({
    mutationFn: (a: WorkerAction) => sendAction(project.id, a),
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: keys.projects });
    },
  });
  const [done, setDone] = useState<string | null>(null);
  useEffect(() => {
    if (!done) return undefined;
    const t = window.setTimeout(() => setDone(null), 4000);
    return () => window.clearTimeout(t);
  }, [done]);
  const run = (a: WorkerAction) => {
    setLast(a);
    setDone(null);
    action.mutate(a, { onSuccess: () => setDone(DONE[a]) });
  };
  const busy = action.isPending;
  const hintId = useId();
  const button = (a: WorkerAction, label: string) => {
    const why = state.disabled[a];
    return (
      <button
        type="button"
        className="btn btn-small"
        disabled={busy || Boolean(why)}
        title={why}
        aria-describedby={why && state.kind === "nothing_deployed" ? hintId : undefined}
        onClick={() => run(a)}
      >
        {label}
      </button>
    );
  };
  return (
    <div className={`worker-controls${compact ? " compact" : ""}`} role="group" aria-label="Manage worker">
      {button("start", "Start worker")}
      {button("stop", "Stop worker")}
      {button("restart", "Restart worker")}
      {state.kind === "nothing_deployed" && (
        <span id={hintId} className="muted small">
          No workflow deployed yet: build one to get a worker.
        </span>
      )}
      {busy && last && (
        <span className="muted small" role="status">
          Sending {last}…
        </span>
      )}
      {!busy && done && (
        <span className="muted small" role="status">
          {done}
        </span>
      )}
      {action.isError && (
        <span className="text-error small" role="alert">
          {action.error.message}
        </span>
      )}
    </div>
  );
}
