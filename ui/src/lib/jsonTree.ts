// The JSON viewer's logic: paths, summaries, search and which branches are open.

export type JsonContainer = Record<string, unknown> | unknown[];

export function isContainer(value: unknown): value is JsonContainer {
  return value !== null && typeof value === "object";
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** The path of a child, written as JavaScript would: `$.body.items[0]`, `$["a key"]`. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  return IDENTIFIER.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

export const ROOT = "$";

/** A container's children as [key, value] pairs, in order. */
export function entries(value: JsonContainer): [string | number, unknown][] {
  if (Array.isArray(value)) return value.map((v, i) => [i, v]);
  return Object.entries(value);
}

/** What a collapsed container shows: `{3 keys}`, `[1 item]`. */
export function summarize(value: JsonContainer): string {
  if (Array.isArray(value)) return `[${value.length} item${value.length === 1 ? "" : "s"}]`;
  const n = Object.keys(value).length;
  return `{${n} key${n === 1 ? "" : "s"}}`;
}

/** A scalar as JSON writes it (strings quoted), and its kind for colouring. */
export function formatScalar(value: unknown): { text: string; kind: "string" | "number" | "boolean" | "null" } {
  if (value === null || value === undefined) return { text: "null", kind: "null" };
  if (typeof value === "string") return { text: JSON.stringify(value), kind: "string" };
  if (typeof value === "number") return { text: Number.isFinite(value) ? String(value) : "null", kind: "number" };
  if (typeof value === "boolean") return { text: String(value), kind: "boolean" };
  return { text: JSON.stringify(value) ?? "null", kind: "string" };
}

export interface SearchResult {
  /** Paths whose key or scalar value contains the query. */
  matches: string[];
  /** Paths of the containers to open so that every match shows. */
  open: Set<string>;
}

/** Case-insensitive search over keys and scalar values (containers match by their key). */
export function searchJson(value: unknown, query: string, limit = 1000): SearchResult {
  const q = query.trim().toLowerCase();
  const result: SearchResult = { matches: [], open: new Set() };
  if (!q) return result;
  const walk = (v: unknown, path: string, key: string | number | null, ancestors: string[]): void => {
    if (result.matches.length >= limit) return;
    const keyHit = key !== null && typeof key === "string" && key.toLowerCase().includes(q);
    let hit = keyHit;
    if (!isContainer(v)) {
      const text = typeof v === "string" ? v : formatScalar(v).text;
      if (text.toLowerCase().includes(q)) hit = true;
    }
    if (hit) {
      result.matches.push(path);
      for (const a of ancestors) result.open.add(a);
    }
    if (isContainer(v)) {
      const next = [...ancestors, path];
      for (const [k, child] of entries(v)) walk(child, childPath(path, k), k, next);
    }
  };
  walk(value, ROOT, null, []);
  return result;
}

export type ExpandMode = "default" | "all" | "none";

/**
 * Whether the container at `path` (at `depth`, the root being 0) is open: a click on it
 * wins, then a search that needs it open, then "expand all"/"collapse all", then the
 * default depth.
 */
export function isOpen(
  path: string,
  depth: number,
  state: { toggled: ReadonlyMap<string, boolean>; searchOpen: ReadonlySet<string>; mode: ExpandMode; defaultDepth: number },
): boolean {
  const toggled = state.toggled.get(path);
  if (toggled !== undefined) return toggled;
  if (state.searchOpen.has(path)) return true;
  if (state.mode === "all") return true;
  if (state.mode === "none") return depth === 0;
  return depth < state.defaultDepth;
}

/** JSON text for copying; strings are copied as they are, not quoted. */
export function copyText(value: unknown): string {
  if (typeof value === "string") return value;
  return JSON.stringify(value, null, 2) ?? "null";
}

/** Roughly how many characters the value takes as JSON (to warn before rendering huge trees). */
export function jsonSize(value: unknown): number {
  try {
    return (JSON.stringify(value) ?? "").length;
  } catch {
    return 0;
  }
}
