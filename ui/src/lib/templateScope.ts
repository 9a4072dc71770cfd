// What templates and expressions of a node can read, for the editors' autocomplete, lint
// and preview: `input`, `steps.<id>` (fields seen in the last run), `secrets.<NAME>`,
// `item`/`index` in a for_each, `error` after an error edge.

export type EditorMode = "python" | "template" | "expression";

export interface ScopeInfo {
  /** The last run's input, or undefined when there is no run yet. */
  input: unknown;
  /** Outputs of the last run's steps, by node id. */
  steps: Record<string, unknown>;
  /** Ids of the nodes that run before this one (what `steps.<id>` can name). */
  upstream: string[];
  /** Ids of every node of the graph (a `steps.<id>` outside them is a mistake). */
  nodeIds: string[];
  secrets: string[];
  /** Inside a for_each step: `item` and `index`. */
  inLoop: boolean;
  /** On the error path of another step: `error`. */
  onErrorPath: boolean;
  /** What went wrong upstream in the last run, for a step on an error path. */
  error?: unknown;
}

export interface CompletionOption {
  label: string;
  detail?: string;
  type: "variable" | "property" | "constant";
}

export interface CompletionResult {
  /** Offset in the text where the word being completed starts. */
  from: number;
  options: CompletionOption[];
}

// A dict's own methods: `steps.get(...)` names no step.
const MAPPING_METHODS = new Set(["get", "items", "keys", "values", "copy", "pop", "update", "setdefault", "clear", "fromkeys", "popitem"]);

/** Whether `offset` lies inside a `{{ … }}` or `{% … %}` tag of a template. */
export function insideTag(text: string, offset: number): boolean {
  const before = text.slice(0, offset);
  const open = Math.max(before.lastIndexOf("{{"), before.lastIndexOf("{%"));
  if (open < 0) return false;
  const close = Math.max(before.lastIndexOf("}}"), before.lastIndexOf("%}"));
  return close < open;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `list of ${value.length}`;
  if (typeof value === "object") return "object";
  if (typeof value === "string") return value.length > 24 ? `"${value.slice(0, 24)}…"` : JSON.stringify(value);
  return String(value);
}

function fieldsOf(value: unknown): CompletionOption[] {
  if (!value || typeof value !== "object" || Array.isArray(value)) return [];
  return Object.entries(value as Record<string, unknown>).map(([k, v]) => ({
    label: k,
    detail: describe(v),
    type: "property",
  }));
}

function rootOptions(scope: ScopeInfo): CompletionOption[] {
  const roots: CompletionOption[] = [
    { label: "input", detail: "the run input", type: "variable" },
    { label: "steps", detail: "outputs of earlier steps", type: "variable" },
  ];
  if (scope.secrets.length > 0) roots.push({ label: "secrets", detail: "project secrets", type: "variable" });
  if (scope.inLoop) {
    roots.push({ label: "item", detail: "the current element", type: "variable" });
    roots.push({ label: "index", detail: "its position", type: "variable" });
  }
  if (scope.onErrorPath) roots.push({ label: "error", detail: "type, message, node_id", type: "variable" });
  return roots;
}

function walk(value: unknown, path: string[]): unknown {
  let cur = value;
  for (const key of path) {
    if (!cur || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function memberOptions(path: string[], scope: ScopeInfo): CompletionOption[] {
  const [root, ...rest] = path;
  if (root === "input") return fieldsOf(walk(scope.input, rest));
  if (root === "secrets" && rest.length === 0) {
    return scope.secrets.map((name) => ({ label: name, detail: "secret", type: "constant" }));
  }
  if (root === "error" && rest.length === 0) {
    return ["type", "message", "node_id"].map((label) => ({ label, type: "property" }));
  }
  if (root !== "steps") return [];
  if (rest.length === 0) {
    const ids = scope.upstream.length > 0 ? scope.upstream : Object.keys(scope.steps);
    return ids.map((id) => ({
      label: id,
      detail: id in scope.steps ? describe(scope.steps[id]) : "no run yet",
      type: "property",
    }));
  }
  const [id, ...fields] = rest;
  return id === undefined ? [] : fieldsOf(walk(scope.steps[id], fields));
}

/** What to offer at `offset`: names after `input.`, `steps.`, `steps.<id>.`…, or the roots. */
export function completionsAt(text: string, offset: number, mode: EditorMode, scope: ScopeInfo): CompletionResult | null {
  if (mode === "template" && !insideTag(text, offset)) return null;
  const before = text.slice(0, offset);
  const member = /([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*)\.([\w-]*)$/.exec(before);
  if (member) {
    const options = memberOptions((member[1] ?? "").split("."), scope);
    return options.length > 0 ? { from: offset - (member[2] ?? "").length, options } : null;
  }
  const word = /(^|[^\w.])([A-Za-z_]\w*)?$/.exec(before);
  if (!word) return null;
  const typed = word[2] ?? "";
  if (typed === "" && mode === "template" && !/(\{\{|\{%)\s*$/.test(before)) return null;
  if (mode === "python") return null;
  return { from: offset - typed.length, options: rootOptions(scope) };
}

export interface TextRange {
  from: number;
  to: number;
  message: string;
}

/** Every `steps.<id>` / `steps['<id>']` whose id is no node of the graph. */
export function unknownStepRefs(text: string, mode: EditorMode, nodeIds: string[]): TextRange[] {
  const known = new Set(nodeIds);
  const found: TextRange[] = [];
  const pattern = /\bsteps(?:\.([A-Za-z_][\w-]*)|\[\s*(["'])([^"'\]]+)\2\s*\])/g;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    const id = m[1] ?? m[3] ?? "";
    if (known.has(id) || (m[1] !== undefined && MAPPING_METHODS.has(id))) continue;
    if (mode === "template" && !insideTag(text, m.index)) continue;
    found.push({ from: m.index, to: m.index + m[0].length, message: `No step has the id “${id}”.` });
  }
  return found;
}

/** The line a compiler problem names ("… at line 3", "(line 2)"), or null. */
export function problemLine(message: string): number | null {
  const m = /\bline (\d+)/.exec(message);
  return m ? Number(m[1]) : null;
}

/** The scope sent to the preview and to "Test this step" (the last run's data). */
export function sampleScope(scope: ScopeInfo): Record<string, unknown> {
  const sample: Record<string, unknown> = { input: scope.input ?? {}, steps: scope.steps };
  if (scope.error !== undefined) sample.error = scope.error;
  return sample;
}
