// The run list's filters: kept in the page's query string (so a reload keeps them) and
// turned into the query of GET /api/executions.
import type { ExecutionStatus, TriggeredBy } from "../api/types";
import { EXECUTION_STATUSES } from "./status";

export const TRIGGERS: TriggeredBy[] = ["manual", "api", "webhook", "schedule"];

export const TIME_RANGES = [
  { value: "", label: "Any time", ms: null },
  { value: "1h", label: "Last hour", ms: 3_600_000 },
  { value: "24h", label: "Last 24 hours", ms: 86_400_000 },
  { value: "7d", label: "Last 7 days", ms: 7 * 86_400_000 },
  { value: "30d", label: "Last 30 days", ms: 30 * 86_400_000 },
  { value: "custom", label: "Between dates…", ms: null },
] as const;

export type TimeRange = (typeof TIME_RANGES)[number]["value"];

export const PAGE_SIZES = [10, 25, 50, 100] as const;
export const DEFAULT_PAGE_SIZE = 50;

export interface RunFilters {
  status: ExecutionStatus | "";
  triggeredBy: TriggeredBy | "";
  range: TimeRange;
  /** ISO instants, for range "custom". */
  since: string;
  until: string;
  q: string;
  /** The workflow chosen on the page of every run (a workflow's own page fixes it). */
  workflowId: string;
  projectId: string;
  limit: number;
}

function oneOf<T extends string>(value: string | null, allowed: readonly T[]): T | "" {
  return value !== null && (allowed as readonly string[]).includes(value) ? (value as T) : "";
}

function isoOrEmpty(value: string | null): string {
  if (!value) return "";
  return Number.isNaN(Date.parse(value)) ? "" : value;
}

/** Filters as the page's query string says; anything unknown is ignored. */
export function parseRunFilters(params: URLSearchParams): RunFilters {
  const limit = Number(params.get("limit"));
  const range = oneOf(params.get("range"), TIME_RANGES.map((r) => r.value).filter(Boolean));
  return {
    status: oneOf(params.get("status"), EXECUTION_STATUSES),
    triggeredBy: oneOf(params.get("trigger"), TRIGGERS),
    range,
    since: range === "custom" ? isoOrEmpty(params.get("since")) : "",
    until: range === "custom" ? isoOrEmpty(params.get("until")) : "",
    q: (params.get("q") ?? "").slice(0, 200),
    workflowId: params.get("workflow") ?? "",
    projectId: params.get("project") ?? "",
    limit: Number.isInteger(limit) && limit >= 1 && limit <= 500 ? limit : DEFAULT_PAGE_SIZE,
  };
}

const URL_KEYS: Record<keyof RunFilters, string> = {
  status: "status",
  triggeredBy: "trigger",
  range: "range",
  since: "since",
  until: "until",
  q: "q",
  workflowId: "workflow",
  projectId: "project",
  limit: "limit",
};

/** The query string with `patch` applied; empty values (and the default page size) are left out. */
export function withFilters(params: URLSearchParams, patch: Partial<RunFilters>): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const [k, v] of Object.entries(patch) as [keyof RunFilters, RunFilters[keyof RunFilters]][]) {
    const key = URL_KEYS[k];
    if (v === "" || v === undefined || (k === "limit" && v === DEFAULT_PAGE_SIZE)) next.delete(key);
    else next.set(key, String(v));
  }
  if (patch.range !== undefined && patch.range !== "custom") {
    next.delete("since");
    next.delete("until");
  }
  return next;
}

/** Is any filter set (other than the page size)? */
export function hasFilters(f: RunFilters): boolean {
  return Boolean(f.status || f.triggeredBy || f.range || f.q || f.workflowId || f.projectId);
}

/**
 * The query of GET /api/executions (without the cursor). Relative ranges are computed
 * from `now`, so that "last hour" moves on while the page stays open.
 */
export function apiQuery(f: RunFilters, fixedWorkflowId: string | undefined, now: number): URLSearchParams {
  const p = new URLSearchParams();
  const workflow = fixedWorkflowId || f.workflowId;
  if (workflow) p.set("workflow_id", workflow);
  if (f.projectId && !fixedWorkflowId) p.set("project_id", f.projectId);
  if (f.status) p.set("status", f.status);
  if (f.triggeredBy) p.set("triggered_by", f.triggeredBy);
  const range = TIME_RANGES.find((r) => r.value === f.range);
  if (range && range.ms !== null) p.set("since", new Date(now - range.ms).toISOString());
  if (f.range === "custom") {
    if (f.since) p.set("since", new Date(f.since).toISOString());
    if (f.until) p.set("until", new Date(f.until).toISOString());
  }
  if (f.q.trim()) p.set("q", f.q.trim());
  p.set("limit", String(f.limit));
  return p;
}

/** `2025-01-31T14:05` (what a datetime-local field holds, in local time) from an ISO instant. */
export function toLocalInput(iso: string): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The ISO instant of a datetime-local value (local time); "" when empty or invalid. */
export function fromLocalInput(local: string): string {
  if (!local) return "";
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? "" : d.toISOString();
}

/** Sum of the per-status counts: every run the other filters match. */
export function totalOf(counts: Record<string, number> | undefined): number {
  return Object.values(counts ?? {}).reduce((a, b) => a + b, 0);
}
