import { useState, type FormEvent } from "react";
import { Modal } from "../components/ui";
import { validateRunInput } from "../lib/json";

export function BuildDialog({
  workflowId,
  busy,
  error,
  onClose,
  onBuild,
}: {
  workflowId: string;
  busy: boolean;
  error: string | null;
  onClose: () => void;
  onBuild: (input: Record<string, unknown>) => void;
}) {
  const storageKey = `runloom.input.${workflowId}`;
  const [text, setText] = useState(() => localStorage.getItem(storageKey) ?? "{}");
  const result = validateRunInput(text);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!result.ok) return;
    localStorage.setItem(storageKey, text);
    onBuild(result.value);
  };
  return (
    <Modal title="Build and run" onClose={onClose}>
      <form className="form" onSubmit={submit}>
        <p className="muted small">
          Build saves the graph, compiles it to a new version, loads it into the project’s worker and starts a run
          with this input. Templates see it as <code>input</code>.
        </p>
        <div className="field">
          <label htmlFor="run-input">Run input (JSON)</label>
          <textarea
            id="run-input"
            className="mono"
            rows={8}
            spellCheck={false}
            value={text}
            onChange={(e) => setText(e.target.value)}
            aria-invalid={result.ok ? undefined : true}
            aria-describedby="run-input-status"
          />
          <span id="run-input-status" className={result.ok ? "muted small" : "text-error small"} role={result.ok ? undefined : "alert"}>
            {result.ok ? "Valid JSON object." : result.error}
          </span>
        </div>
        {error && (
          <p className="text-error" role="alert">
            {error}
          </p>
        )}
        <div className="form-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={!result.ok || busy}>
            {busy ? "Building…" : "Build and run"}
          </button>
        </div>
      </form>
    </Modal>
  );
}
