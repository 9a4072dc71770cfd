// Recovery of a run that ended: Retry (continue from the failed step) and Re-run (start
// again from scratch, on the active or a chosen version). Shared by the run panel and the
// run list.
import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { useQueryClient } from "@tanstack/react-query";
import { keys, rerunExecution, retryExecution, useVersions } from "../api/hooks";
import type { Execution } from "../api/types";
import { Modal } from "../components/ui";
import { canRerun, canRetry, origin, shortId, versionChoices } from "../lib/recovery";

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function RerunDialog({
  execution,
  onClose,
  onStarted,
}: {
  execution: Execution;
  onClose: () => void;
  onStarted: (e: Execution) => void;
}) {
  const qc = useQueryClient();
  const versions = useVersions(execution.workflow_id);
  const [version, setVersion] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const choices = versionChoices(versions.data, execution.code_version);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const started = await rerunExecution(execution.id, version ? Number(version) : null);
      void qc.invalidateQueries({ queryKey: ["executions"] });
      void qc.invalidateQueries({ queryKey: keys.versions(execution.workflow_id) });
      onStarted(started);
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title="Re-run" onClose={onClose}>
      <form onSubmit={(e) => void submit(e)} aria-label="Re-run the run">
        <p className="small">
          Starts a new run of this workflow from the beginning, with the same input as run{" "}
          <span className="mono">{shortId(execution.id)}</span>
          {execution.code_version ? ` (v${execution.code_version})` : ""}.
        </p>
        <div className="field">
          <label htmlFor="rerun-version">Version</label>
          <select id="rerun-version" value={version} onChange={(e) => setVersion(e.target.value)} disabled={versions.isLoading}>
            {choices.map((c) => (
              <option key={c.value || "active"} value={c.value}>
                {c.label}
              </option>
            ))}
          </select>
          {versions.isError && (
            <span className="text-error small">The versions cannot be listed: {versions.error.message}</span>
          )}
        </div>
        {error && (
          <p className="text-error small" role="alert">
            {error}
          </p>
        )}
        <div className="form-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? "Starting…" : "Re-run"}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/**
 * Retry and Re-run buttons for a run that ended; `onStarted` receives the new run.
 * `idLabel` goes into the buttons' accessible names when several runs are listed.
 */
export function RecoveryButtons({
  execution,
  onStarted,
  idLabel,
  small = true,
}: {
  execution: Execution;
  onStarted: (e: Execution, how: "retry" | "rerun") => void;
  idLabel?: string;
  small?: boolean;
}) {
  const qc = useQueryClient();
  const [rerunOpen, setRerunOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!canRerun(execution.status)) return null;
  const retry = async () => {
    setBusy(true);
    setError(null);
    try {
      const started = await retryExecution(execution.id);
      void qc.invalidateQueries({ queryKey: ["executions"] });
      onStarted(started, "retry");
    } catch (err) {
      setError(message(err));
    } finally {
      setBusy(false);
    }
  };
  const cls = `btn${small ? " btn-small" : ""}`;
  return (
    <span className="recovery">
      {canRetry(execution.status) && (
        <button
          type="button"
          className={`${cls} btn-primary`}
          disabled={busy}
          onClick={() => void retry()}
          aria-label={idLabel ? `Retry run ${idLabel}` : undefined}
          title="Continue from the step that failed: the steps that completed are not run again"
        >
          {busy ? "Retrying…" : "Retry"}
        </button>
      )}
      <button
        type="button"
        className={cls}
        onClick={() => setRerunOpen(true)}
        aria-haspopup="dialog"
        aria-label={idLabel ? `Re-run run ${idLabel}` : undefined}
        title="Start a new run from the beginning with the same input"
      >
        Re-run…
      </button>
      {error && (
        <span className="text-error small block" role="alert">
          {error}
        </span>
      )}
      {rerunOpen && (
        <RerunDialog
          execution={execution}
          onClose={() => setRerunOpen(false)}
          onStarted={(e) => {
            setRerunOpen(false);
            onStarted(e, "rerun");
          }}
        />
      )}
    </span>
  );
}

/** "retry of 1a2b3c4d" / "re-run of 1a2b3c4d", a link to the run it came from. */
export function OriginLink({ execution, className }: { execution: Execution; className?: string }) {
  const from = origin(execution);
  if (!from) return null;
  const words = from.kind === "retry" ? "retry of" : "re-run of";
  return (
    <Link
      className={className}
      to={`/workflows/${execution.workflow_id}?run=${from.id}`}
      aria-label={`${words} run ${from.id}`}
      data-origin={from.kind}
      title={from.id}
    >
      {words} <span className="mono">{shortId(from.id)}</span>
    </Link>
  );
}
