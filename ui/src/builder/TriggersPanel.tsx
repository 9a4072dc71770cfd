// The builder's Triggers panel: webhooks and schedules that start runs of the active version.
import { useId, useState } from "react";
import { Link } from "react-router-dom";
import {
  useCreateTrigger,
  useDeleteTrigger,
  useRunTrigger,
  useTriggers,
  useUpdateTrigger,
} from "../api/hooks";
import type { Trigger, TriggerCreated } from "../api/types";
import { CopyButton, ErrorState, Loading, Modal } from "../components/ui";
import { formatDate } from "../lib/format";
import {
  curlExample,
  formatFireTime,
  newScheduleForm,
  overlapLabel,
  scheduleFormOf,
  triggerTitle,
  type ScheduleBody,
} from "../lib/triggers";
import { ScheduleEditor } from "./ScheduleEditor";
import { useConfirm } from "../components/confirm";

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

type Editor = { kind: "new" } | { kind: "edit"; trigger: Trigger } | null;

export function TriggersPanel({
  workflowId,
  version,
  onClose,
}: {
  workflowId: string;
  /** The active version, if the workflow has been built. */
  version: number | null;
  onClose: () => void;
}) {
  const triggers = useTriggers(workflowId);
  const create = useCreateTrigger(workflowId);
  const update = useUpdateTrigger(workflowId);
  const [editor, setEditor] = useState<Editor>(null);
  const [fresh, setFresh] = useState<TriggerCreated | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editorError, setEditorError] = useState<string | null>(null);

  const addWebhook = () => {
    setError(null);
    setStatus(null);
    create.mutate(
      { type: "webhook" },
      {
        onSuccess: (t) => {
          setFresh(t);
          setStatus("Webhook created.");
        },
        onError: (err) => setError(`Could not add a webhook: ${message(err)}`),
      },
    );
  };

  const saveSchedule = (body: ScheduleBody) => {
    setEditorError(null);
    setStatus(null);
    if (editor?.kind === "edit") {
      update.mutate(
        { id: editor.trigger.id, patch: body },
        {
          onSuccess: () => {
            setEditor(null);
            setStatus("Schedule saved.");
          },
          onError: (err) => setEditorError(message(err)),
        },
      );
      return;
    }
    create.mutate(
      { type: "schedule", ...body },
      {
        onSuccess: () => {
          setEditor(null);
          setStatus("Schedule created.");
        },
        onError: (err) => setEditorError(message(err)),
      },
    );
  };

  const list = triggers.data ?? [];
  return (
    <Modal title="Triggers" onClose={onClose} wide>
      <div className="triggers-panel">
        <p className="muted small">
          Triggers start runs of the workflow’s active version without anyone pressing Build: a <strong>webhook</strong>{" "}
          when a program POSTs to its URL, a <strong>schedule</strong> on a cron expression or an interval.
          {version ? ` Runs use the active version (now v${version}).` : ""}
        </p>
        {!version && (
          <p className="notice" role="note">
            This workflow has not been built yet: build it once, or triggers have no version to run.
          </p>
        )}
        <div className="inline triggers-actions">
          <button type="button" className="btn btn-small" onClick={addWebhook} disabled={create.isPending}>
            Add webhook
          </button>
          <button
            type="button"
            className="btn btn-small"
            onClick={() => {
              setEditorError(null);
              setEditor({ kind: "new" });
            }}
            disabled={editor !== null}
          >
            Add schedule
          </button>
          <Link className="small" to={`/workflows/${workflowId}/runs`}>
            See the runs
          </Link>
          <p role="status" className="muted small">
            {status}
          </p>
        </div>
        {error && (
          <p role="alert" className="text-error">
            {error}
          </p>
        )}
        {fresh && fresh.type === "webhook" && <NewWebhook trigger={fresh} onDone={() => setFresh(null)} />}
        {editor && (
          <ScheduleEditor
            key={editor.kind === "edit" ? editor.trigger.id : "new"}
            initial={editor.kind === "edit" ? scheduleFormOf(editor.trigger) : newScheduleForm()}
            editing={editor.kind === "edit"}
            busy={create.isPending || update.isPending}
            error={editorError}
            onCancel={() => setEditor(null)}
            onSubmit={saveSchedule}
          />
        )}
        {triggers.isLoading && <Loading what="triggers" />}
        {triggers.isError && <ErrorState error={triggers.error} retry={() => void triggers.refetch()} />}
        {triggers.data && list.length === 0 && (
          <p className="muted triggers-empty">No triggers yet: this workflow runs only when someone presses Build or calls the API.</p>
        )}
        {list.length > 0 && (
          <ul className="trigger-list" aria-label="Triggers">
            {list.map((t) => (
              <TriggerItem
                key={t.id}
                trigger={t}
                workflowId={workflowId}
                onEdit={() => {
                  setEditorError(null);
                  setEditor({ kind: "edit", trigger: t });
                }}
                onStatus={setStatus}
                onDeleted={() => {
                  if (fresh?.id === t.id) setFresh(null);
                  if (editor?.kind === "edit" && editor.trigger.id === t.id) setEditor(null);
                }}
              />
            ))}
          </ul>
        )}
      </div>
    </Modal>
  );
}

function NewWebhook({ trigger, onDone }: { trigger: TriggerCreated; onDone: () => void }) {
  const url = trigger.url ?? "";
  const token = trigger.token ?? "";
  const curl = curlExample(url, token);
  return (
    <section className="card secret-once" aria-label="New webhook">
      <h3 className="form-title">Webhook created</h3>
      {token ? (
        <p className="warning-text" role="alert">
          Copy the token now: it will not be shown again. Later you will see only its first characters.
        </p>
      ) : (
        <p className="text-error">The server did not send the webhook’s token.</p>
      )}
      <div className="field">
        <label htmlFor="new-webhook-url">Webhook URL</label>
        <div className="copy-row">
          <input id="new-webhook-url" className="mono" readOnly value={url} onFocus={(e) => e.target.select()} />
          <CopyButton text={url} label="Copy webhook URL" />
        </div>
      </div>
      {token && (
        <div className="field">
          <label htmlFor="new-webhook-token">Token</label>
          <div className="copy-row">
            <input id="new-webhook-token" className="mono" readOnly value={token} onFocus={(e) => e.target.select()} />
            <CopyButton text={token} label="Copy token" />
          </div>
        </div>
      )}
      <div className="field">
        <span className="label-row">
          <span id="curl-example-label">Try it with curl</span>
          <CopyButton text={curl} label="Copy curl example" />
        </span>
        <pre className="code-block" aria-labelledby="curl-example-label">
          {curl}
        </pre>
      </div>
      <p className="muted small">
        The JSON body becomes the run’s input (headers and query under <code>input._webhook</code>); the answer is{" "}
        <code>202 {"{"}"execution_id": …{"}"}</code>. Add <code>?wait=10</code> to the URL to wait up to 10 s for the
        run’s output. Instead of the bearer token you may sign the body:{" "}
        <code>X-Runloom-Signature: sha256=&lt;hex HMAC-SHA256 of the body, keyed by the token&gt;</code>.
      </p>
      <div className="form-actions">
        <button type="button" className="btn btn-small" onClick={onDone}>
          Done
        </button>
      </div>
    </section>
  );
}

function TriggerItem({
  trigger: t,
  workflowId,
  onEdit,
  onStatus,
  onDeleted,
}: {
  trigger: Trigger;
  workflowId: string;
  onEdit: () => void;
  onStatus: (text: string) => void;
  onDeleted: () => void;
}) {
  const id = useId();
  const update = useUpdateTrigger(workflowId);
  const remove = useDeleteTrigger(workflowId);
  const run = useRunTrigger(workflowId);
  const [error, setError] = useState<string | null>(null);
  const title = triggerTitle(t);
  const busy = update.isPending || remove.isPending || run.isPending;
  const isSchedule = t.type === "schedule";

  const toggle = () => {
    setError(null);
    update.mutate(
      { id: t.id, patch: { enabled: !t.enabled } },
      {
        onSuccess: (next) => onStatus(`${triggerTitle(next)} ${next.enabled ? "resumed" : "paused"}.`),
        onError: (err) => setError(message(err)),
      },
    );
  };
  const [confirm, confirmDialog] = useConfirm();
  const del = async () => {
    const ok = await confirm({
      title: isSchedule ? "Delete this schedule?" : "Delete this webhook?",
      body: <p>{isSchedule ? "No more runs start from it; runs already started go on." : "Calls to its URL will be refused from now on."}</p>,
      confirmLabel: isSchedule ? "Delete schedule" : "Delete webhook",
      danger: true,
    });
    if (!ok) return;
    setError(null);
    remove.mutate(t.id, {
      onSuccess: () => {
        onDeleted();
        onStatus(`${title} deleted.`);
      },
      onError: (err) => setError(message(err)),
    });
  };
  const runNow = () => {
    setError(null);
    run.mutate(t.id, {
      onSuccess: () => onStatus(`${title}: a run has started.`),
      onError: (err) => setError(message(err)),
    });
  };

  return (
    <li className="trigger-item" aria-labelledby={`${id}-title`} data-trigger-type={t.type} data-enabled={t.enabled}>
      {confirmDialog}
      <div className="trigger-head">
        <span className="badge badge-trigger" data-triggered-by={t.type}>
          {t.type}
        </span>
        <strong id={`${id}-title`}>{title}</strong>
        <span className={`pill ${t.enabled ? "pill-ok" : "pill-warn"}`}>{t.enabled ? "Active" : "Paused"}</span>
      </div>
      {t.type === "webhook" ? (
        <dl className="kv">
          <dt>URL</dt>
          <dd className="copy-row">
            <span className="mono small break">{t.url ?? "—"}</span>
            {t.url && <CopyButton text={t.url} label={`Copy URL of ${title}`} />}
          </dd>
          <dt>Token</dt>
          <dd>
            <span className="mono small">{t.token_prefix ? `${t.token_prefix}…` : "—"}</span>{" "}
            <span className="muted small">(shown in full only when the webhook was created)</span>
          </dd>
          <dt>Created</dt>
          <dd>{formatDate(t.created_at)}</dd>
        </dl>
      ) : (
        <>
          <dl className="kv">
            {t.cron ? (
              <>
                <dt>Cron</dt>
                <dd className="mono small">{t.cron}</dd>
              </>
            ) : (
              <>
                <dt>Interval</dt>
                <dd>every {t.interval_s} s</dd>
              </>
            )}
            <dt>Time zone</dt>
            <dd>{t.timezone ?? "UTC"}</dd>
            <dt>If still running</dt>
            <dd>{overlapLabel(t.overlap)}</dd>
            {t.input && Object.keys(t.input).length > 0 && (
              <>
                <dt>Input</dt>
                <dd className="mono small break">{JSON.stringify(t.input)}</dd>
              </>
            )}
          </dl>
          {t.enabled && t.next_runs.length > 0 ? (
            <>
              <h4 className="fire-times-title" id={`${id}-next`}>
                Next runs
              </h4>
              <ol className="fire-times" aria-labelledby={`${id}-next ${id}-title`}>
                {t.next_runs.map((r) => (
                  <li key={r}>
                    <time dateTime={r}>{formatFireTime(r, t.timezone)}</time>
                  </li>
                ))}
              </ol>
            </>
          ) : (
            <p className="muted small">{t.enabled ? "No upcoming runs." : "Paused: no runs start until you resume it."}</p>
          )}
        </>
      )}
      <div className="inline trigger-actions">
        <button type="button" className="btn btn-small" onClick={toggle} disabled={busy} aria-describedby={`${id}-title`}>
          {t.enabled ? "Pause" : "Resume"}
        </button>
        {isSchedule && (
          <>
            <button type="button" className="btn btn-small" onClick={runNow} disabled={busy} aria-describedby={`${id}-title`}>
              Run now
            </button>
            <button type="button" className="btn btn-small" onClick={onEdit} disabled={busy} aria-describedby={`${id}-title`}>
              Edit
            </button>
          </>
        )}
        <button type="button" className="btn btn-small btn-danger" onClick={() => void del()} disabled={busy} aria-describedby={`${id}-title`}>
          Delete
        </button>
      </div>
      {error && (
        <p role="alert" className="text-error small">
          {error}
        </p>
      )}
    </li>
  );
}
