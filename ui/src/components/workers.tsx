import { useState } from "react";
import { useWorkerAction, type WorkerAction } from "../api/hooks";
import type { Worker } from "../api/types";
import { formatDate, formatNumber, formatRelative } from "../lib/format";
import { summarizeWorkers } from "../lib/status";
import { StatusDot } from "./ui";

function workerError(w: Worker | null): string | null {
  const meta = w?.metadata;
  if (!meta) return null;
  const err = meta["error"] ?? meta["last_error"];
  return typeof err === "string" && err ? err : null;
}

/** The seed's worker status indicator: a coloured dot; click for the worker's details. */
export function WorkerIndicator({ workers, projectId }: { workers: Worker[] | undefined; projectId?: string }) {
  const [open, setOpen] = useState(false);
  const summary = summarizeWorkers(workers);
  const w = summary.worker;
  const error = workerError(w);
  return (
    <div className="worker-indicator">
      <button
        type="button"
        className="worker-button"
        aria-label={`Worker: ${summary.label}`}
        aria-expanded={open}
        data-worker-status={summary.label}
        data-tone={summary.tone}
        onClick={() => setOpen((o) => !o)}
      >
        <StatusDot tone={summary.tone} pulse={summary.tone === "yellow"} />
        <span>Worker {summary.label}</span>
      </button>
      {open && (
        <div className="popover" role="dialog" aria-label="Worker details">
          <div className="popover-title">
            <StatusDot tone={summary.tone} /> Worker {summary.label}
          </div>
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
              <dt>Last error</dt>
              <dd className={error ? "text-error" : undefined}>{error ?? "none"}</dd>
            </dl>
          ) : (
            <p className="muted">
              No worker is running for this project. One starts on the next Build or run, or start it now.
            </p>
          )}
          {projectId && <WorkerControls projectId={projectId} />}
        </div>
      )}
    </div>
  );
}

export function WorkerControls({ projectId, compact }: { projectId: string; compact?: boolean }) {
  const action = useWorkerAction(projectId);
  const [last, setLast] = useState<WorkerAction | null>(null);
  const run = (a: WorkerAction) => {
    setLast(a);
    action.mutate(a);
  };
  const busy = action.isPending;
  return (
    <div className={`worker-controls${compact ? " compact" : ""}`} role="group" aria-label="Manage worker">
      <button type="button" className="btn btn-small" disabled={busy} onClick={() => run("start")}>
        Start worker
      </button>
      <button type="button" className="btn btn-small" disabled={busy} onClick={() => run("stop")}>
        Stop worker
      </button>
      <button type="button" className="btn btn-small" disabled={busy} onClick={() => run("restart")}>
        Restart worker
      </button>
      {busy && last && <span className="muted small">Sending {last}…</span>}
      {action.isError && (
        <span className="text-error small" role="alert">
          {action.error.message}
        </span>
      )}
    </div>
  );
}
