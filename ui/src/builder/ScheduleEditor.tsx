// The schedule editor of the Triggers panel: cron or interval, time zone, input, overlap policy,
// and, as you type, the server's description of the schedule with its next five fire times.
import { useEffect, useId, useMemo, useState, type FormEvent } from "react";
import { ApiError } from "../api/client";
import { describeSchedule } from "../api/hooks";
import type { ScheduleDescription, ScheduleSpec } from "../api/types";
import { validateRunInput } from "../lib/json";
import {
  formatFireTime,
  formatUntil,
  knownTimeZones,
  OVERLAP_POLICIES,
  scheduleBody,
  scheduleSpec,
  type ScheduleBody,
  type ScheduleForm,
} from "../lib/triggers";

const DESCRIBE_DELAY_MS = 350;

type Preview =
  | { status: "idle" }
  | { status: "loading"; last: ScheduleDescription | null }
  | { status: "ok"; data: ScheduleDescription }
  | { status: "invalid"; error: string }
  | { status: "error"; error: string };

/** The server's description of `spec`, asked for once typing pauses; `null` spec: nothing to ask. */
function useDescription(spec: ScheduleSpec | null): Preview {
  const key = spec ? JSON.stringify(spec) : null;
  const [preview, setPreview] = useState<Preview>({ status: "idle" });
  useEffect(() => {
    if (key === null) {
      setPreview({ status: "idle" });
      return undefined;
    }
    setPreview((p) => ({ status: "loading", last: p.status === "ok" ? p.data : p.status === "loading" ? p.last : null }));
    const controller = new AbortController();
    const timer = window.setTimeout(() => {
      describeSchedule(JSON.parse(key) as ScheduleSpec, controller.signal)
        .then((data) => setPreview({ status: "ok", data }))
        .catch((err: unknown) => {
          if (controller.signal.aborted) return;
          if (err instanceof ApiError && (err.status === 422 || err.status === 400)) {
            setPreview({ status: "invalid", error: err.message });
          } else {
            setPreview({ status: "error", error: err instanceof Error ? err.message : String(err) });
          }
        });
    }, DESCRIBE_DELAY_MS);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [key]);
  return preview;
}

export function ScheduleEditor({
  initial,
  editing,
  busy,
  error,
  onCancel,
  onSubmit,
}: {
  initial: ScheduleForm;
  /** Editing an existing schedule (else creating one). */
  editing: boolean;
  busy: boolean;
  error: string | null;
  onCancel: () => void;
  onSubmit: (body: ScheduleBody) => void;
}) {
  const id = useId();
  const [form, setForm] = useState<ScheduleForm>(initial);
  const zones = useMemo(() => knownTimeZones(), []);
  const spec = scheduleSpec(form);
  const body = scheduleBody(form);
  const input = validateRunInput(form.input);
  const preview = useDescription(spec.ok ? spec.value : null);
  const set = <K extends keyof ScheduleForm>(k: K, v: ScheduleForm[K]) => setForm((f) => ({ ...f, [k]: v }));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!body.ok || preview.status === "invalid") return;
    onSubmit(body.value);
  };

  const shown = preview.status === "ok" ? preview.data : preview.status === "loading" ? preview.last : null;
  const overlapHint = OVERLAP_POLICIES.find((p) => p.value === form.overlap)?.hint;

  return (
    <form className="schedule-editor" onSubmit={submit} aria-label={editing ? "Edit schedule" : "New schedule"} noValidate>
      <h3 className="form-title">{editing ? "Edit schedule" : "New schedule"}</h3>
      <div className="schedule-grid">
        <div>
          <fieldset className="fieldset radio-row">
            <legend>Repeat</legend>
            <label className="checkbox">
              <input type="radio" name={`${id}-mode`} value="cron" checked={form.mode === "cron"} onChange={() => set("mode", "cron")} />
              Cron
            </label>
            <label className="checkbox">
              <input type="radio" name={`${id}-mode`} value="interval" checked={form.mode === "interval"} onChange={() => set("mode", "interval")} />
              Interval
            </label>
          </fieldset>
          {form.mode === "cron" ? (
            <div className="field">
              <label htmlFor={`${id}-cron`}>Cron expression</label>
              <input
                id={`${id}-cron`}
                className="mono"
                value={form.cron}
                spellCheck={false}
                autoComplete="off"
                onChange={(e) => set("cron", e.target.value)}
                aria-invalid={preview.status === "invalid" || (!spec.ok && form.cron.trim() === "") ? true : undefined}
                aria-describedby={`${id}-cron-hint ${id}-preview`}
              />
              <span id={`${id}-cron-hint`} className="muted small">
                minute hour day-of-month month day-of-week, e.g. <code>0 9 * * 1-5</code> (9:00 on weekdays)
              </span>
            </div>
          ) : (
            <div className="field">
              <label htmlFor={`${id}-interval`}>Interval in seconds</label>
              <input
                id={`${id}-interval`}
                type="number"
                min={1}
                step={1}
                inputMode="numeric"
                value={form.interval}
                onChange={(e) => set("interval", e.target.value)}
                aria-invalid={!spec.ok || preview.status === "invalid" ? true : undefined}
                aria-describedby={`${id}-preview`}
              />
            </div>
          )}
          <div className="field">
            <label htmlFor={`${id}-tz`}>Time zone</label>
            <input
              id={`${id}-tz`}
              list={`${id}-zones`}
              value={form.timezone}
              spellCheck={false}
              autoComplete="off"
              onChange={(e) => set("timezone", e.target.value)}
              aria-describedby={`${id}-preview`}
            />
            <datalist id={`${id}-zones`}>
              {zones.map((z) => (
                <option key={z} value={z} />
              ))}
            </datalist>
          </div>
          <div className="field">
            <label htmlFor={`${id}-overlap`}>If the previous run is still going</label>
            <select id={`${id}-overlap`} value={form.overlap} onChange={(e) => set("overlap", e.target.value as ScheduleForm["overlap"])} aria-describedby={`${id}-overlap-hint`}>
              {OVERLAP_POLICIES.map((p) => (
                <option key={p.value} value={p.value}>
                  {p.label}
                </option>
              ))}
            </select>
            <span id={`${id}-overlap-hint`} className="muted small">
              {overlapHint}
            </span>
          </div>
          <div className="field">
            <label htmlFor={`${id}-input`}>Run input (JSON)</label>
            <textarea
              id={`${id}-input`}
              className="mono"
              rows={3}
              spellCheck={false}
              value={form.input}
              onChange={(e) => set("input", e.target.value)}
              aria-invalid={input.ok ? undefined : true}
              aria-describedby={`${id}-input-status`}
            />
            <span id={`${id}-input-status`} className={input.ok ? "muted small" : "text-error small"} role={input.ok ? undefined : "alert"}>
              {input.ok ? "Every scheduled run gets this input." : input.error}
            </span>
          </div>
        </div>
        <section className="schedule-preview" id={`${id}-preview`} aria-label="Schedule preview" aria-live="polite" aria-busy={preview.status === "loading"}>
          <h4>When it runs</h4>
          {!spec.ok && (
            <p className="text-error" role="alert">
              {spec.error}
            </p>
          )}
          {preview.status === "invalid" && (
            <p className="text-error" role="alert">
              {preview.error}
            </p>
          )}
          {preview.status === "error" && (
            <p className="text-error" role="alert">
              The schedule cannot be described right now: {preview.error}
            </p>
          )}
          {spec.ok && shown && preview.status !== "invalid" && preview.status !== "error" && (
            <div className={preview.status === "loading" ? "stale" : undefined}>
              <p className="schedule-description" data-testid="schedule-description">
                {shown.description}
              </p>
              <ol className="fire-times" aria-label="Next runs">
                {shown.next_runs.map((t) => (
                  <li key={t}>
                    <time dateTime={t}>{formatFireTime(t, spec.value.timezone)}</time>{" "}
                    <span className="muted small">{formatUntil(t)}</span>
                  </li>
                ))}
              </ol>
            </div>
          )}
          {spec.ok && preview.status === "loading" && !shown && <p className="muted small">Checking…</p>}
        </section>
      </div>
      {error && (
        <p className="text-error" role="alert">
          {error}
        </p>
      )}
      <div className="form-actions">
        <button type="button" className="btn" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="btn btn-primary" disabled={busy || !body.ok || preview.status === "invalid"}>
          {busy ? "Saving…" : editing ? "Save schedule" : "Create schedule"}
        </button>
      </div>
    </form>
  );
}
