// Validation of JSON typed by a person (run input, JSON fields of the side panel).

export type JsonResult<T = unknown> = { ok: true; value: T } | { ok: false; error: string };

/** Parses text as JSON; `error` says where and what, in words a person can act on. */
export function parseJson(text: string): JsonResult {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const pos = /position (\d+)/.exec(message);
    if (pos) {
      const offset = Number(pos[1]);
      const before = text.slice(0, offset);
      const line = before.split("\n").length;
      const column = offset - before.lastIndexOf("\n");
      return { ok: false, error: `Invalid JSON at line ${line}, column ${column}: ${stripPosition(message)}` };
    }
    // Some engines echo the whole text back ("…, "<text>" is not valid JSON"): leave it out.
    const short = message.replace(/,\s*"[\s\S]*" is not valid JSON$/, "");
    return { ok: false, error: `Invalid JSON: ${short}` };
  }
}

function stripPosition(message: string): string {
  return message.replace(/\s*(in JSON )?at position \d+.*$/, "").replace(/\s*\(line \d+ column \d+\)$/, "");
}

/** Run input: empty means `{}`; anything else must be a JSON object. */
export function validateRunInput(text: string): JsonResult<Record<string, unknown>> {
  if (text.trim() === "") return { ok: true, value: {} };
  const parsed = parseJson(text);
  if (!parsed.ok) return parsed;
  const v = parsed.value;
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    return { ok: false, error: 'The input must be a JSON object, for example {"order_id": 42}.' };
  }
  return { ok: true, value: v as Record<string, unknown> };
}

/**
 * Template fields accept either JSON with templates inside (`{"a": "{{ input.a }}"}`) or a plain
 * template string (`{{ steps.fetch.body }}`). Text that looks like an object or array must parse.
 */
export function parseTemplateField(text: string): JsonResult {
  const trimmed = text.trim();
  if (trimmed.startsWith("{") && !trimmed.startsWith("{{")) return parseJson(text);
  if (trimmed.startsWith("[")) return parseJson(text);
  return { ok: true, value: text };
}

/** How a stored field value is shown in a text box. */
export function formatFieldValue(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  return JSON.stringify(value, null, 2);
}

export function prettyJson(value: unknown): string {
  if (value === undefined) return "—";
  return JSON.stringify(value, null, 2) ?? "—";
}
