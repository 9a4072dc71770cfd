// The value a template field resolves to against the last run's data, as runs render it
// (POST /api/templates/preview: the same sandboxed, bounded engine; secrets by name only).
import { useEffect, useState } from "react";
import { request } from "../api/client";
import { prettyJson } from "../lib/json";
import { sampleScope, type ScopeInfo } from "../lib/templateScope";

type Preview = { state: "idle" } | { state: "busy" } | { state: "ok"; value: unknown } | { state: "error"; message: string };

function hasTemplate(value: unknown): boolean {
  return JSON.stringify(value ?? "").includes("{{") || JSON.stringify(value ?? "").includes("{%");
}

export function TemplatePreview({
  id,
  label,
  value,
  scope,
  expression = false,
}: {
  id: string;
  label: string;
  /** The field's value: a template string, JSON with templates, or an expression. */
  value: unknown;
  scope: ScopeInfo;
  expression?: boolean;
}) {
  const [preview, setPreview] = useState<Preview>({ state: "idle" });
  const template = expression && typeof value === "string" && value.trim() ? `{{ ${value} }}` : value;
  const wanted = template !== undefined && hasTemplate(template);
  const body = JSON.stringify({ template, scope: sampleScope(scope) });

  useEffect(() => {
    if (!wanted) {
      setPreview({ state: "idle" });
      return undefined;
    }
    const abort = new AbortController();
    const timer = window.setTimeout(() => {
      setPreview({ state: "busy" });
      request<{ value: unknown }>("/api/templates/preview", { method: "POST", body: JSON.parse(body) as unknown, signal: abort.signal })
        .then((r) => setPreview({ state: "ok", value: r.value }))
        .catch((err: unknown) => {
          if (abort.signal.aborted) return;
          setPreview({ state: "error", message: err instanceof Error ? err.message : String(err) });
        });
    }, 400);
    return () => {
      window.clearTimeout(timer);
      abort.abort();
    };
  }, [wanted, body]);

  if (!wanted) return null;
  const against = scope.input === undefined ? "no run yet: input and steps are empty" : "against the last run's data";
  return (
    <div className="template-preview" id={id} role="status" aria-live="polite" aria-label="Resolved value" data-field={label}>
      <span className="template-preview-head muted small">Preview, {against}</span>
      {preview.state === "ok" && <pre className="mono small">{prettyJson(preview.value)}</pre>}
      {preview.state === "error" && <span className="text-error small">{preview.message}</span>}
      {preview.state === "busy" && <span className="muted small">Rendering…</span>}
    </div>
  );
}
