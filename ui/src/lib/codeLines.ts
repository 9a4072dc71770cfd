// Where each node lives in the generated code: the lines of its workflow method
// (`async def _node_<name>`) and of its activity (`@activity.defn(name="<type>.<node id>")`).

export interface LineRange {
  /** 1-based, inclusive. */
  start: number;
  end: number;
}

/** A Python string literal as runloom writes it (double or single quotes, backslash escapes). */
function unquote(literal: string): string {
  const body = literal.slice(1, -1);
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/g, (_m, esc: string) => {
    if (esc.length > 1) return String.fromCodePoint(parseInt(esc.slice(1), 16));
    return ({ n: "\n", t: "\t", r: "\r", "0": "\0" } as Record<string, string>)[esc] ?? esc;
  });
}

const STRING = String.raw`("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')`;

/** The block that starts at line index `from` (0-based): up to the next line at its indent or less. */
function blockEnd(lines: string[], from: number, indent: number): number {
  let end = from;
  for (let i = from + 1; i < lines.length; i += 1) {
    const line = lines[i] as string;
    if (line.trim() === "") continue;
    const lead = line.length - line.trimStart().length;
    // A def's own continuation lines (`) -> Any:`) sit at its indent too.
    if (lead <= indent && !/^\s*\)/.test(line)) break;
    end = i;
  }
  return end;
}

/** Node id → lines of its method in the workflow module. */
export function workflowNodeLines(code: string): Map<string, LineRange> {
  const methods = new Map<string, string>();
  const spawn = new RegExp(String.raw`self\._graph\.spawn\(\s*${STRING},\s*self\.(_node_\w+)`, "g");
  for (const m of code.matchAll(spawn)) methods.set(m[2] as string, unquote(m[1] as string));
  const lines = code.split("\n");
  const out = new Map<string, LineRange>();
  lines.forEach((line, i) => {
    const def = /^(\s*)async def (_node_\w+)\(/.exec(line);
    const id = def ? methods.get(def[2] as string) : undefined;
    if (def && id !== undefined) out.set(id, { start: i + 1, end: blockEnd(lines, i, (def[1] as string).length) + 1 });
  });
  return out;
}

/** Node id → lines of its activity (decorator to end of function) in the activities module. */
export function activityNodeLines(code: string): Map<string, LineRange> {
  const lines = code.split("\n");
  const out = new Map<string, LineRange>();
  const decorator = new RegExp(String.raw`^@activity\.defn\(\s*(?:name=${STRING})?`);
  lines.forEach((line, i) => {
    if (!line.startsWith("@activity.defn(")) return;
    // The name may sit on the next line when the decorator is split.
    const text = decorator.exec(line)?.[1] ?? new RegExp(String.raw`name=${STRING}`).exec(lines[i + 1] ?? "")?.[1];
    if (!text) return;
    const type = unquote(text);
    const id = type.replace(/^.*?@v\d+\./, "");
    let def = i;
    while (def < lines.length && !/^async def /.test(lines[def] as string)) def += 1;
    out.set(id, { start: i + 1, end: blockEnd(lines, def, 0) + 1 });
  });
  return out;
}

/** The node whose range holds `line`, if any. */
export function nodeAtLine(ranges: Map<string, LineRange>, line: number): string | null {
  for (const [id, r] of ranges) if (line >= r.start && line <= r.end) return id;
  return null;
}
