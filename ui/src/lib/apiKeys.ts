// API keys: their expiry as typed in a date field, and how their project is named.
import type { ApiKey, Project } from "../api/types";

/**
 * The expiry a date field means: the end of that day, in the browser's time zone, as ISO.
 * Empty → null (never expires); a day already over → an error.
 */
export function expiryFromDate(
  date: string,
  now: Date = new Date(),
): { ok: true; value: string | null } | { ok: false; error: string } {
  if (!date) return { ok: true, value: null };
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return { ok: false, error: "Pick a date, or leave it empty for a key that does not expire." };
  const end = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59, 999);
  if (Number.isNaN(end.getTime())) return { ok: false, error: "That is not a date." };
  if (end.getTime() <= now.getTime()) return { ok: false, error: "That day is over: pick a later one." };
  return { ok: true, value: end.toISOString() };
}

/** The earliest date a date field may offer (today, in the browser's time zone). */
export function todayInput(now: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

export const ALL_PROJECTS = "All my projects";

export function keyProjectName(key: Pick<ApiKey, "project_id">, projects: Project[] | undefined): string {
  if (!key.project_id) return ALL_PROJECTS;
  return projects?.find((p) => p.id === key.project_id)?.name ?? key.project_id;
}

export function isExpired(key: Pick<ApiKey, "expires_at">, now: number = Date.now()): boolean {
  if (!key.expires_at) return false;
  const t = Date.parse(key.expires_at);
  return !Number.isNaN(t) && t <= now;
}

/** How a key's start is shown: the API lists the characters after `rl_`. */
export function keyStart(prefix: string): string {
  return prefix.startsWith("rl_") ? prefix : `rl_${prefix}`;
}
