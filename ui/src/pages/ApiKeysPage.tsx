import { useId, useState, type FormEvent } from "react";
import { useApiKeys, useCreateApiKey, useProjects, useRevokeApiKey } from "../api/hooks";
import type { ApiKeyCreated } from "../api/types";
import { CopyButton, Empty, ErrorState, Loading, PageHeader } from "../components/ui";
import { ALL_PROJECTS, expiryFromDate, isExpired, keyProjectName, keyStart, todayInput } from "../lib/apiKeys";
import { formatDate, formatRelative } from "../lib/format";
import { useConfirm } from "../components/confirm";

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** API keys for programs and CI: create (shown once), list by prefix, revoke. */
export function ApiKeysPage() {
  const keys = useApiKeys();
  const projects = useProjects();
  const revoke = useRevokeApiKey();
  const [created, setCreated] = useState<ApiKeyCreated | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const [confirm, confirmDialog] = useConfirm();
  const doRevoke = async (id: string, name: string) => {
    const ok = await confirm({
      title: `Revoke the key “${name}”?`,
      body: <p>Programs that use it get 401 from now on. This cannot be undone.</p>,
      confirmLabel: "Revoke key",
      danger: true,
    });
    if (!ok) return;
    setError(null);
    revoke.mutate(id, {
      onSuccess: () => {
        setStatus(`Key “${name}” revoked.`);
        if (created?.id === id) setCreated(null);
      },
      onError: (err) => setError(`Could not revoke “${name}”: ${message(err)}`),
    });
  };

  return (
    <div className="page">
      {confirmDialog}
      <PageHeader
        title="API keys"
        subtitle="Keys let programs and CI call runloom's API as you, without signing in. A key limited to one project sees nothing else."
      />
      <NewKeyForm
        onCreated={(k) => {
          setCreated(k);
          setStatus(null);
        }}
      />
      {created && <NewKey created={created} projectName={keyProjectName(created, projects.data)} onDone={() => setCreated(null)} />}
      <p role="status" className="muted small">
        {status}
      </p>
      {error && (
        <p role="alert" className="text-error">
          {error}
        </p>
      )}
      <section className="section" aria-labelledby="keys-heading">
        <h2 id="keys-heading">Your keys</h2>
        {keys.isLoading && <Loading what="API keys" />}
        {keys.isError && <ErrorState error={keys.error} retry={() => void keys.refetch()} />}
        {keys.data && keys.data.length === 0 && (
          <Empty title="No API keys">
            <p>Create one above for a script, a CI job or the CLI (RUNLOOM_API_KEY).</p>
          </Empty>
        )}
        {keys.data && keys.data.length > 0 && (
          <div className="table-scroll">
            <table className="table" aria-label="API keys">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Key</th>
                  <th>Project</th>
                  <th>Created</th>
                  <th>Last used</th>
                  <th>Expires</th>
                  <th>
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {keys.data.map((k) => (
                  <tr key={k.id}>
                    <td>{k.name}</td>
                    <td className="mono small" title="Only the first characters are kept in the clear">
                      {keyStart(k.prefix)}…
                    </td>
                    <td>{keyProjectName(k, projects.data)}</td>
                    <td>{formatDate(k.created_at)}</td>
                    <td title={k.last_used_at ? formatDate(k.last_used_at) : undefined}>{formatRelative(k.last_used_at)}</td>
                    <td>
                      {k.expires_at ? formatDate(k.expires_at) : <span className="muted">never</span>}{" "}
                      {isExpired(k) && <span className="pill pill-warn">expired</span>}
                    </td>
                    <td className="row-actions">
                      <button
                        type="button"
                        className="btn btn-small btn-danger"
                        aria-label={`Revoke ${k.name}`}
                        disabled={revoke.isPending && revoke.variables === k.id}
                        onClick={() => void doRevoke(k.id, k.name)}
                      >
                        Revoke
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </div>
  );
}

function NewKeyForm({ onCreated }: { onCreated: (key: ApiKeyCreated) => void }) {
  const projects = useProjects();
  const create = useCreateApiKey();
  const id = useId();
  const [name, setName] = useState("");
  const [projectId, setProjectId] = useState("");
  const [expires, setExpires] = useState("");
  const [error, setError] = useState<string | null>(null);
  const expiry = expiryFromDate(expires);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (!name.trim()) {
      setError("Give the key a name, for example “CI deploys”.");
      return;
    }
    if (!expiry.ok) return;
    create.mutate(
      { name: name.trim(), project_id: projectId || null, expires_at: expiry.value },
      {
        onSuccess: (k) => {
          onCreated(k);
          setName("");
          setExpires("");
        },
        onError: (err) => setError(message(err)),
      },
    );
  };

  return (
    <form className="card" onSubmit={submit} aria-label="Create an API key" noValidate>
      <h2 className="form-title">Create a key</h2>
      <div className="grid-3">
        <div className="field">
          <label htmlFor={`${id}-name`}>Key name</label>
          <input id={`${id}-name`} value={name} maxLength={255} placeholder="CI deploys" onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-project`}>Project</label>
          <select id={`${id}-project`} value={projectId} onChange={(e) => setProjectId(e.target.value)} aria-describedby={`${id}-project-hint`}>
            <option value="">{ALL_PROJECTS}</option>
            {(projects.data ?? []).map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
          <span id={`${id}-project-hint`} className="muted small">
            {projectId ? "The key can reach this project only." : "The key acts as you in every project."}
          </span>
        </div>
        <div className="field">
          <label htmlFor={`${id}-expires`}>Expires on (optional)</label>
          <input
            id={`${id}-expires`}
            type="date"
            min={todayInput()}
            value={expires}
            onChange={(e) => setExpires(e.target.value)}
            aria-invalid={expiry.ok ? undefined : true}
            aria-describedby={`${id}-expires-hint`}
          />
          <span id={`${id}-expires-hint`} className={expiry.ok ? "muted small" : "text-error small"} role={expiry.ok ? undefined : "alert"}>
            {expiry.ok ? (expires ? "At the end of that day." : "Empty: the key does not expire.") : expiry.error}
          </span>
        </div>
      </div>
      {error && (
        <p role="alert" className="text-error">
          {error}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={create.isPending || !expiry.ok}>
          {create.isPending ? "Creating…" : "Create key"}
        </button>
      </div>
    </form>
  );
}

function NewKey({ created, projectName, onDone }: { created: ApiKeyCreated; projectName: string; onDone: () => void }) {
  const origin = window.location.origin;
  return (
    <section className="card secret-once" aria-label="New API key">
      <h2 className="form-title">Key “{created.name}” created</h2>
      <p className="warning-text" role="alert">
        Copy the key now: it will not be shown again. runloom keeps only a hash of it.
      </p>
      <div className="field">
        <label htmlFor="new-api-key">API key</label>
        <div className="copy-row">
          <input id="new-api-key" className="mono" readOnly value={created.key} onFocus={(e) => e.target.select()} />
          <CopyButton text={created.key} label="Copy API key" />
        </div>
      </div>
      <p className="muted small">
        Scope: {projectName}
        {created.expires_at ? ` · expires ${formatDate(created.expires_at)}` : " · does not expire"}. Use it as{" "}
        <code>Authorization: Bearer {keyStart(created.prefix)}…</code>, for example <code>curl -H "Authorization: Bearer $RUNLOOM_API_KEY" {origin}/api/projects</code>, or set{" "}
        <code>RUNLOOM_API_KEY</code> for the CLI.
      </p>
      <div className="form-actions">
        <button type="button" className="btn" onClick={onDone}>
          Done
        </button>
      </div>
    </section>
  );
}
