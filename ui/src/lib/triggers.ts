// Triggers: what started a run, the schedule editor's form, and how to call a webhook.
import type { OverlapPolicy, ScheduleSpec, Trigger, TriggeredBy } from "../api/types";
import { validateRunInput, type JsonResult } from "./json";

const TRIGGERED_BY: Record<TriggeredBy, { label: string; title: string }> = {
  manual: { label: "manual", title: "Started by a person: Build, or the API with a sign-in token" },
  api: { label: "API", title: "Started through the API with an API key" },
  webhook: { label: "webhook", title: "Started by a call to one of the workflow's webhooks" },
  schedule: { label: "schedule", title: "Started by one of the workflow's schedules" },
};

/** The badge that says what started a run; null when the server does not say (older servers). */
export function triggeredByLabel(by: string | null | undefined): { label: string; title: string } | null {
  if (!by) return null;
  return TRIGGERED_BY[by as TriggeredBy] ?? { label: by, title: `Started by: ${by}` };
}

export const OVERLAP_POLICIES: { value: OverlapPolicy; label: string; hint: string }[] = [
  { value: "skip", label: "Skip", hint: "A fire time that comes while a run is still going is skipped." },
  {
    value: "buffer_one",
    label: "Buffer one",
    hint: "One fire time waits for the running run to end; more are skipped.",
  },
  { value: "allow_all", label: "Allow all", hint: "Every fire time starts a run, even while others still run." },
];

export function overlapLabel(policy: OverlapPolicy | null | undefined): string {
  return OVERLAP_POLICIES.find((p) => p.value === policy)?.label ?? "—";
}

/** The browser's time zone (`Europe/Berlin`), the schedule editor's default. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** Every IANA time zone the browser knows, for the editor's suggestions. */
export function knownTimeZones(): string[] {
  const intl = Intl as typeof Intl & { supportedValuesOf?: (key: string) => string[] };
  try {
    return intl.supportedValuesOf ? intl.supportedValuesOf("timeZone") : [];
  } catch {
    return [];
  }
}

export function isTimeZone(tz: string): boolean {
  if (!tz.trim()) return false;
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export type ScheduleMode = "cron" | "interval";

export interface ScheduleForm {
  mode: ScheduleMode;
  cron: string;
  /** Seconds, as typed. */
  interval: string;
  timezone: string;
  /** Run input, JSON as typed. */
  input: string;
  overlap: OverlapPolicy;
}

export function newScheduleForm(timezone: string = browserTimeZone()): ScheduleForm {
  return { mode: "cron", cron: "*/5 * * * *", interval: "60", timezone, input: "{}", overlap: "skip" };
}

/** The editor's form for an existing schedule. */
export function scheduleFormOf(t: Trigger): ScheduleForm {
  return {
    mode: t.interval_s !== null && t.interval_s !== undefined ? "interval" : "cron",
    cron: t.cron ?? "*/5 * * * *",
    interval: String(t.interval_s ?? 60),
    timezone: t.timezone ?? browserTimeZone(),
    input: JSON.stringify(t.input ?? {}, null, 2),
    overlap: t.overlap ?? "skip",
  };
}

/** When the schedule fires, as the API describes it: exactly one of cron and interval. */
export function scheduleSpec(form: ScheduleForm): JsonResult<ScheduleSpec> {
  const timezone = form.timezone.trim();
  if (!timezone) return { ok: false, error: "Give a time zone, for example Europe/Berlin or UTC." };
  if (!isTimeZone(timezone)) return { ok: false, error: `“${timezone}” is not a time zone this browser knows (try Europe/Berlin or UTC).` };
  if (form.mode === "cron") {
    const cron = form.cron.trim().replace(/\s+/g, " ");
    if (!cron) return { ok: false, error: "Give a cron expression, for example */5 * * * * (every 5 minutes)." };
    return { ok: true, value: { cron, interval_s: null, timezone } };
  }
  const text = form.interval.trim();
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    return { ok: false, error: "The interval is a whole number of seconds, at least 1." };
  }
  return { ok: true, value: { cron: null, interval_s: Number(text), timezone } };
}

export interface ScheduleBody extends ScheduleSpec {
  input: Record<string, unknown>;
  overlap: OverlapPolicy;
}

/** The whole schedule as `POST …/triggers` (with `type`) and `PATCH /api/triggers/{id}` take it. */
export function scheduleBody(form: ScheduleForm): JsonResult<ScheduleBody> {
  const spec = scheduleSpec(form);
  if (!spec.ok) return spec;
  const input = validateRunInput(form.input);
  if (!input.ok) return { ok: false, error: `Input: ${input.error}` };
  return { ok: true, value: { ...spec.value, input: input.value, overlap: form.overlap } };
}

/** A fire time in the schedule's own time zone (`Wed, Dec 2, 10:05:00 CET`). */
export function formatFireTime(iso: string, timezone: string | null | undefined, locale?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const options: Intl.DateTimeFormatOptions = {
    weekday: "short",
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    timeZoneName: "short",
  };
  try {
    return d.toLocaleString(locale, { ...options, timeZone: timezone ?? undefined });
  } catch {
    return d.toLocaleString(locale, options);
  }
}

/** How far away a future time is: `in 4 s`, `in 3 min`, `in 2 h`, `in 5 days`. */
export function formatUntil(iso: string, now: number = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "";
  const s = Math.round((t - now) / 1000);
  if (s <= 0) return "now";
  if (s < 60) return `in ${s} s`;
  if (s < 3600) return `in ${Math.round(s / 60)} min`;
  if (s < 86400) return `in ${Math.round(s / 3600)} h`;
  const days = Math.round(s / 86400);
  return `in ${days} day${days === 1 ? "" : "s"}`;
}

/** A word for a shell, in single quotes. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** How to call a webhook from a shell. */
export function curlExample(url: string, token: string, body: string = '{"hello": "world"}'): string {
  return [
    `curl -X POST ${shellQuote(url)} \\`,
    `  -H ${shellQuote(`Authorization: Bearer ${token}`)} \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d ${shellQuote(body)}`,
  ].join("\n");
}

/** How a trigger is named in lists and in its controls' labels. */
export function triggerTitle(t: Trigger): string {
  if (t.type === "webhook") return `Webhook ${t.token_prefix ? `${t.token_prefix}…` : t.id.slice(0, 8)}`;
  if (t.description) return `Schedule: ${t.description}`;
  if (t.cron) return `Schedule: ${t.cron}`;
  if (t.interval_s) return `Schedule: every ${t.interval_s} s`;
  return "Schedule";
}
