import { useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { api } from "../api/client";
import { cancelExecution, keys, terminateExecution } from "../api/hooks";
import type { LiveState } from "../api/live";
import type { Execution } from "../api/types";
import { Loading, StatusBadge, TriggeredByBadge } from "../components/ui";
import { formatDate, formatDuration } from "../lib/format";
import type { StepNode } from "../lib/graph";
import { parseJson, prettyJson } from "../lib/json";
import { executionTone, isTerminal, nodeTone, statusLabel } from "../lib/status";
import { StatusDot } from "../components/ui";
import { OriginLink, RecoveryButtons } from "./Recovery";
import { useConfirm } from "../components/confirm";

/** Steps in the order they started; those never reached last. */
function startedAt(iso: string | null | undefined): number {
  const t = iso ? Date.parse(iso) : Number.NaN;
  return Number.isNaN(t) ? Number.MAX_SAFE_INTEGER : t;
}

function errorText(error: unknown): string | null {
  if (error === null || error === undefined || error === "") return null;
  if (typeof error === "string") return error;
  if (typeof error === "object" && error && "message" in error) return String((error as { message: unknown }).message);
  return JSON.stringify(error, null, 2);
}

export function RunPanel({
  execution,
  live,
  loading,
  error,
  nodes,
  inspected,
  onInspect,
  onOpenRun,
  onClose,
}: {
  execution: Execution | undefined;
  live: LiveState;
  loading: boolean;
  error: Error | null;
  nodes: StepNode[];
  /** The node whose step the inspector shows, if any. */
  inspected: string | null;
  onInspect: (nodeId: string) => void;
  /** Show another run (the one a retry or re-run started). */
  onOpenRun: (executionId: string, how?: "retry" | "rerun") => void;
  onClose: () => void;
}) {
  if (loading) return <div className="panel-body"><Loading what="the run" shape="panel" /></div>;
  if (error || !execution) {
    return (
      <div className="panel-body">
        <p className="text-error" role="alert">
          {error?.message ?? "This run cannot be found."}
        </p>
        <button type="button" className="btn btn-small" onClick={onClose}>
          Close run view
        </button>
      </div>
    );
  }
  const e = execution;
  const err = errorText(e.error);
  const states = e.node_states ?? {};
  const waiting = nodes.filter(
    (n) => n.data.kind === "wait_for_signal" && states[n.id]?.status === "running",
  );
  return (
    <div className="panel-body run-panel" aria-label="Run details">
      <div className="run-head">
        <h2 className="panel-title">Run</h2>
        <StatusBadge tone={executionTone(e.status)}>
          <span data-execution-status={e.status}>{statusLabel(e.status)}</span>
        </StatusBadge>
      </div>
      <p className="muted small">
        {live === "live" && "Live: updates stream from the server."}
        {live === "polling" && "Live stream unavailable: refreshing every 1.5 s."}
        {live === "connecting" && "Connecting to the live stream…"}
        {live === "ended" && "This run is over."}
      </p>
      <dl className="kv">
        {e.triggered_by && (
          <>
            <dt>Started by</dt>
            <dd>
              <TriggeredByBadge by={e.triggered_by} />
            </dd>
          </>
        )}
        <dt>Version</dt>
        <dd>{e.code_version ? `v${e.code_version}` : "—"}</dd>
        <dt>Started</dt>
        <dd>{formatDate(e.started_at)}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(e.duration_ms)}</dd>
        <dt>Workflow id</dt>
        <dd className="mono small break">{e.temporal_workflow_id ?? "—"}</dd>
        {(e.retry_of || e.rerun_of) && (
          <>
            <dt>Started from</dt>
            <dd>
              <OriginLink execution={e} />
            </dd>
          </>
        )}
      </dl>
      {isTerminal(e.status) && (
        <div className="run-recovery" role="group" aria-label="Recover the run">
          <RecoveryButtons execution={e} onStarted={(started, how) => onOpenRun(started.id, how)} />
        </div>
      )}
      {e.temporal_ui_url && (
        <a className="btn btn-small btn-block" href={e.temporal_ui_url} target="_blank" rel="noreferrer">
          Open in Temporal Web UI ↗
        </a>
      )}
      {err && (
        <div className="run-error" role="alert" aria-label="Run error">
          <strong>Error</strong>
          <pre>{err}</pre>
        </div>
      )}
      <h3>Input</h3>
      <pre className="code-block" aria-label="Run input">{prettyJson(e.input)}</pre>
      <h3>Output</h3>
      <pre className="code-block" aria-label="Run output">{isTerminal(e.status) ? prettyJson(e.output) : "(running…)"}</pre>
      <h3>Steps</h3>
      <p className="muted small">Choose a step, here or on the canvas, to see its input, output and logs.</p>
      <ul className="node-states" aria-label="Step states">
        {[...nodes].sort((a, b) => startedAt(states[a.id]?.started_at) - startedAt(states[b.id]?.started_at)).map((n) => {
          const s = states[n.id];
          return (
            <li key={n.id}>
              <StatusDot tone={nodeTone(s?.status)} />
              <button
                type="button"
                className="link-btn mono"
                aria-label={`Inspect step ${n.id}`}
                aria-pressed={inspected === n.id}
                onClick={() => onInspect(n.id)}
              >
                {n.id}
              </button>
              <span className="muted small">
                {s && !(isTerminal(e.status) && s.status === "pending") ? statusLabel(s.status) : "not reached"}
              </span>
              {s?.error && <span className="text-error small block">{s.error}</span>}
            </li>
          );
        })}
      </ul>
      {!isTerminal(e.status) && <RunActions execution={e} waitingSignals={waiting.map((n) => String(n.data.config["signal"] ?? ""))} />}
      <button type="button" className="btn btn-small btn-ghost" onClick={onClose}>
        Close run view
      </button>
    </div>
  );
}

function RunActions({ execution, waitingSignals }: { execution: Execution; waitingSignals: string[] }) {
  const qc = useQueryClient();
  const [name, setName] = useState(waitingSignals[0] ?? "");
  const [payload, setPayload] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const send = async (e: FormEvent) => {
    e.preventDefault();
    let body: unknown = undefined;
    if (payload.trim()) {
      const parsed = parseJson(payload);
      if (!parsed.ok) {
        setMessage(parsed.error);
        return;
      }
      body = parsed.value;
    }
    setBusy(true);
    try {
      await api.post(`/api/executions/${execution.id}/signal`, { name, payload: body });
      setMessage(`Signal “${name}” sent.`);
      void qc.invalidateQueries({ queryKey: keys.execution(execution.id) });
    } catch (err) {
      setMessage(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  const cancel = async () => {
    setBusy(true);
    try {
      await cancelExecution(execution.id);
      setMessage("Cancellation requested.");
    } catch (err) {
      setMessage(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  const [confirm, confirmDialog] = useConfirm();
  const terminate = async () => {
    const ok = await confirm({
      title: "Terminate this run now?",
      body: <p>It stops at once, without the clean-up a cancel allows.</p>,
      confirmLabel: "Terminate run",
      danger: true,
    });
    if (!ok) return;
    setBusy(true);
    try {
      await terminateExecution(execution.id, "terminated from the runloom UI");
      setMessage("Termination requested.");
      void qc.invalidateQueries({ queryKey: keys.execution(execution.id) });
    } catch (err) {
      setMessage(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      {confirmDialog}
      <div className="fieldset run-stop" role="group" aria-label="Stop the run">
        <h3>Stop</h3>
        <div className="inline wrap">
          <button
            type="button"
            className="btn btn-small btn-danger"
            disabled={busy}
            onClick={() => void cancel()}
            title="Ask the run to stop; it may clean up first"
          >
            Cancel run
          </button>
          <button
            type="button"
            className="btn btn-small btn-danger"
            disabled={busy}
            onClick={() => void terminate()}
            title="End the run at once, without letting it clean up"
          >
            Terminate run
          </button>
        </div>
      </div>
      <form className="fieldset" onSubmit={send} aria-label="Signal the run">
        <h3>Signal</h3>
        {waitingSignals.length > 0 && <p className="small">Waiting for: {waitingSignals.join(", ")}</p>}
        <label className="field">
          <span>Signal name</span>
          <input value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <label className="field">
          <span>Payload (JSON, optional)</span>
          <textarea className="mono" rows={2} value={payload} onChange={(e) => setPayload(e.target.value)} />
        </label>
        <div className="inline">
          <button type="submit" className="btn btn-small btn-primary" disabled={busy || !name}>
            Send signal
          </button>
        </div>
      </form>
      {message && (
        <p className="small" role="status">
          {message}
        </p>
      )}
    </>
  );
}
