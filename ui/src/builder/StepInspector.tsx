// What one step of a run received, returned, printed and raised: per for_each item when
// there are several, with big values loaded on demand.
import { useEffect, useRef, useState } from "react";
import { fetchStepValue, useSteps } from "../api/hooks";
import type { Execution, NodeType, StepDetail } from "../api/types";
import { JsonViewer } from "../components/JsonViewer";
import { Loading, StatusBadge } from "../components/ui";
import { formatDate, formatDuration } from "../lib/format";
import { cutParts, entryKey, logsText, stepEntryLabel, stepErrorMessage, stepErrorText, stepsOf } from "../lib/recovery";
import { isTerminal, nodeTone, statusLabel } from "../lib/status";
import { NODE_TYPES, isNodeType } from "../lib/nodeTypes";
import type { NodeRunStatus } from "../api/types";
import { CloseIcon, NodeIcon } from "../components/icons";

function tracebackText(lines: string[] | null | undefined): string {
  return (lines ?? []).map((l) => (l.endsWith("\n") ? l : `${l}\n`)).join("").trimEnd();
}

export function StepInspector({
  execution,
  nodeId,
  nodeKind,
  onClose,
}: {
  execution: Execution;
  nodeId: string;
  nodeKind: NodeType | null;
  onClose: () => void;
}) {
  const running = !isTerminal(execution.status);
  const steps = useSteps(execution.id, running);
  const [large, setLarge] = useState(false);
  const ref = useRef<HTMLElement>(null);
  const entries = stepsOf(steps.data, nodeId);
  const [chosen, setChosen] = useState<string | null>(null);
  const entry = entries.find((s) => entryKey(s) === chosen) ?? entries[0] ?? null;
  const state = execution.node_states?.[nodeId];
  const kind = entry && isNodeType(entry.type) ? entry.type : nodeKind;

  // Fresh steps once the run ends (the last poll may predate its end).
  const { refetch } = steps;
  useEffect(() => {
    if (!running) void refetch();
  }, [running, refetch]);

  useEffect(() => {
    ref.current?.focus();
  }, [nodeId]);

  return (
    <section
      className={`step-inspector${large ? " step-inspector-large" : ""}`}
      aria-label="Step inspector"
      role="region"
      ref={ref}
      tabIndex={-1}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <header className="inspector-head">
        <h2>
          {kind && <span aria-hidden className="inline-icon"><NodeIcon type={kind} size={14} /></span>}
          Step <span className="mono">{nodeId}</span>
          {kind && <span className="muted small"> · {NODE_TYPES[kind].label}</span>}
        </h2>
        {entry ? (
          <StatusBadge tone={nodeTone(entry.status as NodeRunStatus)}>
            <span data-step-status={entry.status}>{statusLabel(entry.status)}</span>
          </StatusBadge>
        ) : state ? (
          <StatusBadge tone={nodeTone(state.status)}>
            <span data-step-status={state.status}>{statusLabel(state.status)}</span>
          </StatusBadge>
        ) : null}
        <span className="inspector-actions">
          <button type="button" className="btn btn-small" aria-pressed={large} onClick={() => setLarge((v) => !v)}>
            {large ? "Smaller" : "Larger"}
          </button>
          <button type="button" className="icon-btn" aria-label="Close step inspector" onClick={onClose}>
            <CloseIcon />
          </button>
        </span>
      </header>
      <div className="inspector-body">
        {steps.isLoading && <Loading what="the step" shape="panel" />}
        {steps.isError && (
          <p className="text-error" role="alert">
            The step details cannot be read: {steps.error.message}
          </p>
        )}
        {steps.data && entries.length === 0 && (
          <div className="muted">
            <p>{running ? "This step has not run yet." : "This step did not run in this run."}</p>
            {state?.error && <p className="text-error">{state.error}</p>}
          </div>
        )}
        {entries.length > 1 && (
          <div className="field inspector-items">
            <label htmlFor="inspector-item">For-each item</label>
            <select id="inspector-item" value={entry ? entryKey(entry) : ""} onChange={(e) => setChosen(e.target.value)}>
              {entries.map((s) => (
                <option key={entryKey(s)} value={entryKey(s)}>
                  {stepEntryLabel(s)} — {statusLabel(s.status)}
                </option>
              ))}
            </select>
            <span className="muted small">
              {entries.filter((s) => s.item_index !== null).length} items;{" "}
              {entries.filter((s) => s.status === "failed").length} failed
            </span>
          </div>
        )}
        {entry && <StepEntry key={entryKey(entry)} executionId={execution.id} step={entry} />}
      </div>
    </section>
  );
}

/** A value of a step, with a button that loads the whole of it when it was cut. */
function StepValue({
  executionId,
  step,
  part,
  cut,
}: {
  executionId: string;
  step: StepDetail;
  part: "input" | "output";
  cut: boolean;
}) {
  const [full, setFull] = useState<{ value: unknown } | null>(null);
  const [loading, setLoading] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const label = part === "input" ? "Step input" : "Step output";
  const load = async () => {
    setLoading(true);
    setLoadError(null);
    try {
      setFull({ value: await fetchStepValue(executionId, step.node_id, part, step.item_index ?? null) });
    } catch (err) {
      setLoadError(err instanceof Error ? err.message : String(err));
    } finally {
      setLoading(false);
    }
  };
  const item = step.item_index === null || step.item_index === undefined ? "" : `-item-${step.item_index}`;
  const value = full ? full.value : part === "input" ? step.input : step.output;
  return (
    <>
      {cut && !full && (
        <div className="notice inspector-cut" role="note">
          {value === null || value === undefined ? "This value is not shown here." : "This value is cut short."}{" "}
          <button type="button" className="btn btn-small" onClick={() => void load()} disabled={loading}>
            {loading ? "Loading…" : `Load the full ${part}`}
          </button>
          {loadError && (
            <span className="text-error small block" role="alert">
              {loadError}
            </span>
          )}
        </div>
      )}
      {full && <p className="muted small">The whole {part}, as the server keeps it.</p>}
      <JsonViewer
        value={value}
        label={label}
        filename={`${step.node_id}${item}-${part}.json`}
        empty={
          part === "input"
            ? "No input recorded."
            : step.status === "failed"
              ? "No output: the step failed."
              : "No output yet."
        }
      />
    </>
  );
}

function StepEntry({ executionId, step }: { executionId: string; step: StepDetail }) {
  const error = stepErrorText(step.error);
  const message = stepErrorMessage(step.error);
  const traceback = tracebackText(step.error?.traceback);
  const logs = logsText(step.logs);
  const cut = cutParts(step);
  return (
    <div className="step-entry">
      <dl className="step-facts">
        <div>
          <dt>Attempts</dt>
          <dd data-testid="step-attempts">{step.attempts ?? "—"}</dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(step.duration_ms)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatDate(step.started_at)}</dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>{formatDate(step.finished_at)}</dd>
        </div>
      </dl>
      {error && (
        <div className="run-error" role="alert" aria-label="Step error">
          <strong>{step.error?.type || "Error"}</strong>
          {message ? `: ${message}` : ""}
          {traceback && (
            <pre className="traceback" aria-label="Traceback" tabIndex={0}>
              {traceback}
            </pre>
          )}
        </div>
      )}
      <div className="inspector-grid">
        <div>
          <h3>Logs</h3>
          {logs ? (
            <pre className="code-block step-logs" aria-label="Step logs" tabIndex={0}>
              {logs}
            </pre>
          ) : (
            <p className="muted small" aria-label="Step logs">
              Nothing was printed or logged.
            </p>
          )}
          <h3>Input</h3>
          <StepValue executionId={executionId} step={step} part="input" cut={cut.input} />
        </div>
        <div>
          <h3>Output</h3>
          <StepValue executionId={executionId} step={step} part="output" cut={cut.output} />
        </div>
      </div>
    </div>
  );
}
