// The Secrets tab of a project: names and dates; set, replace and delete; values never shown.
import { useCallback, useId, useState, type FormEvent } from "react";
import { useDeleteSecret, useSecrets, useSetSecret } from "../api/hooks";
import { formatDate, formatRelative } from "../lib/format";
import { SECRET_NAME_HINT, secretNameProblem, suggestSecretName } from "../lib/secrets";
import { Empty, ErrorState, Loading, Modal } from "./ui";
import { useConfirm } from "./confirm";

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function SecretsTab({ projectId }: { projectId: string }) {
  const secrets = useSecrets(projectId);
  const remove = useDeleteSecret(projectId);
  const [replacing, setReplacing] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const names = (secrets.data ?? []).map((s) => s.name);
  const closeReplace = useCallback(() => setReplacing(null), []);

  const [confirm, confirmDialog] = useConfirm();
  const del = async (name: string) => {
    const ok = await confirm({
      title: `Delete the secret ${name}?`,
      body: <p>Workflows that use it will no longer compile, and their runs fail where they read it.</p>,
      confirmLabel: "Delete secret",
      danger: true,
    });
    if (!ok) return;
    setError(null);
    remove.mutate(name, {
      onSuccess: () => setStatus(`Secret ${name} deleted.`),
      onError: (err) => setError(`Could not delete ${name}: ${message(err)}`),
    });
  };

  return (
    <section className="section" aria-labelledby="secrets-heading">
      {confirmDialog}
      <h2 id="secrets-heading">Secrets</h2>
      <p className="hint" id="secrets-usage">
        Use a secret as <code>{"{{ secrets.NAME }}"}</code> in http and transform templates, or{" "}
        <code>secrets["NAME"]</code> in python nodes; values are encrypted, filled in only when a step runs, and never
        shown again.
      </p>
      <SecretForm projectId={projectId} existing={names} onSaved={(name, replaced) => setStatus(`Secret ${name} ${replaced ? "replaced" : "saved"}.`)} />
      <p role="status" className="muted small secrets-status">
        {status}
      </p>
      {error && (
        <p role="alert" className="text-error">
          {error}
        </p>
      )}
      {secrets.isLoading && <Loading what="secrets" />}
      {secrets.isError && <ErrorState error={secrets.error} retry={() => void secrets.refetch()} />}
      {secrets.data && secrets.data.length === 0 && (
        <Empty title="No secrets yet">
          <p>Store API tokens and passwords here instead of writing them into a node.</p>
        </Empty>
      )}
      {secrets.data && secrets.data.length > 0 && (
        <div className="table-scroll">
          <table className="table" aria-label="Secrets">
            <thead>
              <tr>
                <th>Name</th>
                <th>Created</th>
                <th>Updated</th>
                <th>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {secrets.data.map((s) => (
                <tr key={s.name}>
                  <td className="mono">{s.name}</td>
                  <td>{formatDate(s.created_at)}</td>
                  <td title={formatDate(s.updated_at)}>{formatRelative(s.updated_at)}</td>
                  <td className="row-actions">
                    <button type="button" className="btn btn-small" aria-label={`Replace ${s.name}`} onClick={() => setReplacing(s.name)}>
                      Replace
                    </button>
                    <button
                      type="button"
                      className="btn btn-small btn-danger"
                      aria-label={`Delete ${s.name}`}
                      disabled={remove.isPending && remove.variables === s.name}
                      onClick={() => void del(s.name)}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {replacing && (
        <ReplaceDialog
          projectId={projectId}
          name={replacing}
          onClose={closeReplace}
          onDone={() => {
            setStatus(`Secret ${replacing} replaced.`);
            setReplacing(null);
          }}
        />
      )}
    </section>
  );
}

function SecretForm({
  projectId,
  existing,
  onSaved,
}: {
  projectId: string;
  existing: string[];
  onSaved: (name: string, replaced: boolean) => void;
}) {
  const set = useSetSecret(projectId);
  const id = useId();
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const [submitted, setSubmitted] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const problem = secretNameProblem(name);
  const showProblem = problem !== null && (name !== "" || submitted);
  const suggestion = showProblem ? suggestSecretName(name) : null;
  const exists = existing.includes(name);
  const valueMissing = submitted && value === "";

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setSubmitted(true);
    setError(null);
    if (problem !== null || value === "") return;
    set.mutate(
      { name, value },
      {
        onSuccess: () => {
          onSaved(name, exists);
          setName("");
          setValue("");
          setSubmitted(false);
        },
        onError: (err) => setError(message(err)),
      },
    );
  };

  return (
    <form className="card secret-form" onSubmit={submit} aria-label="Set a secret" noValidate>
      <h3 className="form-title">Set a secret</h3>
      <div className="secret-fields">
        <div className="field">
          <label htmlFor={`${id}-name`}>Name</label>
          <input
            id={`${id}-name`}
            className="mono"
            value={name}
            autoComplete="off"
            spellCheck={false}
            placeholder="API_TOKEN"
            onChange={(e) => setName(e.target.value)}
            aria-invalid={showProblem ? true : undefined}
            aria-describedby={`${id}-name-hint`}
          />
          <span id={`${id}-name-hint`} className={showProblem ? "text-error small" : "muted small"} role={showProblem ? "alert" : undefined}>
            {showProblem ? `${problem} ${SECRET_NAME_HINT}` : exists ? `${name} exists: saving replaces its value.` : SECRET_NAME_HINT}
          </span>
          {suggestion && (
            <button type="button" className="link-btn small align-start" onClick={() => setName(suggestion)}>
              Use {suggestion}
            </button>
          )}
        </div>
        <div className="field">
          <label htmlFor={`${id}-value`}>Value</label>
          <textarea
            id={`${id}-value`}
            className="mono"
            rows={2}
            value={value}
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => setValue(e.target.value)}
            aria-invalid={valueMissing ? true : undefined}
            aria-describedby={`${id}-value-hint`}
          />
          <span id={`${id}-value-hint`} className={valueMissing ? "text-error small" : "muted small"} role={valueMissing ? "alert" : undefined}>
            {valueMissing ? "Give the secret a value." : "Stored encrypted; it will not be shown again."}
          </span>
        </div>
      </div>
      {error && (
        <p role="alert" className="text-error">
          {error}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={set.isPending}>
          {set.isPending ? "Saving…" : exists ? "Replace secret" : "Save secret"}
        </button>
      </div>
    </form>
  );
}

function ReplaceDialog({
  projectId,
  name,
  onClose,
  onDone,
}: {
  projectId: string;
  name: string;
  onClose: () => void;
  onDone: () => void;
}) {
  const set = useSetSecret(projectId);
  const [value, setValue] = useState("");
  const [error, setError] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (value === "") {
      setError("Give the new value.");
      return;
    }
    setError(null);
    set.mutate({ name, value }, { onSuccess: onDone, onError: (err) => setError(message(err)) });
  };
  return (
    <Modal title={`Replace ${name}`} onClose={onClose}>
      <form className="form" onSubmit={submit} noValidate>
        <p className="muted small">
          The new value is used by the next step that reads <code>{name}</code>; running workers pick it up without a
          restart. The old value cannot be shown or restored.
        </p>
        <div className="field">
          <label htmlFor="secret-new-value">New value</label>
          <textarea
            id="secret-new-value"
            className="mono"
            rows={3}
            value={value}
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => setValue(e.target.value)}
            aria-invalid={error ? true : undefined}
          />
        </div>
        {error && (
          <p role="alert" className="text-error">
            {error}
          </p>
        )}
        <div className="form-actions">
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={set.isPending}>
            {set.isPending ? "Replacing…" : "Replace value"}
          </button>
        </div>
      </form>
    </Modal>
  );
}
