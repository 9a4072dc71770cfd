// "Test this step": run one python, transform or http step of the draft once with the last
// run's data (or sample data typed here), in the same sandbox as runs; show what it did.
import { useState } from "react";
import { api } from "../api/client";
import { flowToGraph, type StepNode } from "../lib/graph";
import { prettyJson, validateRunInput } from "../lib/json";
import { sampleScope, type ScopeInfo } from "../lib/templateScope";

export const TESTABLE = new Set(["python", "transform", "http_request"]);

interface StepTestResult {
  ok: boolean;
  output: unknown;
  error: { type: string | null; message: string | null; traceback?: string | null } | null;
  logs: string[];
  duration_ms: number;
}

export function TestStep({ workflowId, node, scope }: { workflowId: string; node: StepNode; scope: ScopeInfo }) {
  const [sample, setSample] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<StepTestResult | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const lastRun = JSON.stringify(sampleScope(scope), null, 2);
  const text = sample ?? lastRun;
  const parsed = validateRunInput(text);
  const sampleId = `test-sample-${node.id}`;

  const run = async () => {
    if (!parsed.ok) return;
    setBusy(true);
    setFailure(null);
    try {
      const graphNode = flowToGraph([node], []).nodes[0];
      setResult(await api.post<StepTestResult>(`/api/workflows/${workflowId}/test-step`, { node: graphNode, scope: parsed.value }));
    } catch (err) {
      setResult(null);
      setFailure(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="fieldset test-step" aria-label="Test this step">
      <div className="test-step-head">
        <button type="button" className="btn btn-small" onClick={() => void run()} disabled={busy || !parsed.ok}>
          {busy ? "Testing…" : "Test this step"}
        </button>
        <span className="muted small">
          {scope.input === undefined ? "No run yet: edit the sample data below." : "With the last run's data."}
        </span>
      </div>
      <details>
        <summary>Sample data</summary>
        <label htmlFor={sampleId} className="small">
          Sample data (JSON: input, steps)
        </label>
        <textarea
          id={sampleId}
          className="mono"
          rows={6}
          spellCheck={false}
          value={text}
          onChange={(e) => setSample(e.target.value)}
          aria-invalid={parsed.ok ? undefined : true}
        />
        {!parsed.ok && <span className="text-error small">{parsed.error}</span>}
        {sample !== null && (
          <button type="button" className="link-btn small" onClick={() => setSample(null)}>
            Use the last run's data
          </button>
        )}
      </details>
      {failure && (
        <p className="text-error small" role="alert">
          {failure}
        </p>
      )}
      {result && (
        <div className="test-step-result" role="status" aria-label="Test result" data-ok={result.ok}>
          <span className={result.ok ? "pill" : "pill pill-warn"}>
            {result.ok ? "Succeeded" : "Failed"} in {result.duration_ms} ms
          </span>
          {result.ok ? (
            <pre className="mono small" aria-label="Test output">
              {prettyJson(result.output)}
            </pre>
          ) : (
            <pre className="mono small text-error" aria-label="Test error">
              {`${result.error?.type ?? "Error"}: ${result.error?.message ?? ""}`}
              {result.error?.traceback ? `\n${result.error.traceback}` : ""}
            </pre>
          )}
          {result.logs.length > 0 && (
            <pre className="mono small" aria-label="Test logs">
              {result.logs.join("\n")}
            </pre>
          )}
        </div>
      )}
    </section>
  );
}
