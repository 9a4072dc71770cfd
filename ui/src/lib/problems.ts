// The compiler's problems in a person's words, and the field of the side panel each concerns.
// The compiler phrases a field problem as `node 'x': field config.url: <pydantic message>.`
// (compiler/parse.py) and template, expression and code problems as
// `node 'x': the template in config.body is invalid: …` (compiler/validate.py).
import type { NodeType, Problem } from "../api/types";
import { NODE_TYPES } from "./nodeTypes";

export interface HumanProblem {
  /** What the problem was as the server said it (shown on demand). */
  original: string;
  code: string;
  nodeId: string | null;
  edgeIndex: number | null;
  /** The side panel field it concerns: a config key (`url`), `timeout_s` or `retry.<key>`. */
  field: string | null;
  /** The label of that field, as the side panel shows it. */
  fieldLabel: string | null;
  /** One sentence a person can act on. */
  text: string;
  severity: "error" | "warning";
}

const TOP_LEVEL_LABELS: Record<string, string> = {
  timeout_s: "Activity timeout",
  schedule_to_close_s: "Schedule-to-close timeout",
  local: "Run as a local activity",
  "retry.maximum_attempts": "Max attempts",
  "retry.initial_interval_s": "Initial interval",
  "retry.backoff_coefficient": "Backoff coefficient",
  "retry.maximum_interval_s": "Maximum interval",
};

function capitalise(s: string): string {
  return s.length > 0 ? s[0]!.toUpperCase() + s.slice(1) : s;
}

function stripDot(s: string): string {
  return s.trim().replace(/\.$/, "");
}

/** `config.url` → `url`; `config.headers.Accept` → `headers`; `retry.maximum_attempts` stays. */
export function fieldOf(location: string): string | null {
  const parts = location.replace(/\[\d+\]/g, "").split(".").filter(Boolean);
  if (parts.length === 0 || parts[0] === "(node)") return null;
  if (parts[0] === "config") return parts[1] ?? null;
  if (parts[0] === "retry") return parts[1] ? `retry.${parts[1]}` : "retry";
  return parts[0] ?? null;
}

export function fieldLabel(kind: NodeType | null, field: string | null): string | null {
  if (!field) return null;
  const spec = kind ? NODE_TYPES[kind] : null;
  const label = spec?.fields.find((f) => f.key === field)?.label;
  if (label) return label.replace(/\s*\(.*\)$/, "");
  return TOP_LEVEL_LABELS[field] ?? field;
}

/** A pydantic message about a field, said plainly of that field. */
export function plainFieldMessage(label: string, msg: string, code: string): string {
  const m = stripDot(msg);
  let r: RegExpMatchArray | null;
  if (code === "unknown_field") return `${label} is not a setting of this step (check its spelling)`;
  if (/^Field required$/i.test(m) || /at least 1 (character|item)/i.test(m)) return `${label} is required`;
  if ((r = m.match(/should have at least (\d+) characters?/i))) return `${label} needs at least ${r[1]} characters`;
  if ((r = m.match(/should have at most (\d+) (characters?|items?)/i))) return `${label} is too long: at most ${r[1]} ${r[2]}`;
  if ((r = m.match(/should have at least (\d+) items?/i))) return `${label} needs at least ${r[1]} items`;
  if ((r = m.match(/greater than or equal to (-?[\d.e+]+)/i))) return `${label} must be at least ${r[1]}`;
  if ((r = m.match(/greater than (-?[\d.e+]+)/i))) return `${label} must be more than ${r[1]}`;
  if ((r = m.match(/less than or equal to (-?[\d.e+]+)/i))) return `${label} must be at most ${r[1]}`;
  if ((r = m.match(/less than (-?[\d.e+]+)/i))) return `${label} must be less than ${r[1]}`;
  if (/valid integer/i.test(m)) return `${label} must be a whole number`;
  if (/valid number|finite number/i.test(m)) return `${label} must be a number`;
  if (/valid boolean/i.test(m)) return `${label} must be on or off`;
  if (/valid string/i.test(m)) return `${label} must be text`;
  if (/valid (dictionary|object)/i.test(m)) return `${label} must be a JSON object`;
  if (/valid list|valid array/i.test(m)) return `${label} must be a list`;
  if ((r = m.match(/^Input should be (.+)$/i))) return `${label} must be ${r[1]!.replace(/'/g, "")}`;
  if ((r = m.match(/^Value error, (.+)$/i))) return `${label}: ${r[1]}`;
  return `${label}: ${m}`;
}

function nodeKind(nodeId: string | null, kinds: ReadonlyMap<string, NodeType>): NodeType | null {
  return nodeId ? (kinds.get(nodeId) ?? null) : null;
}

/** One problem in a person's words; `kinds` gives each node id's type (for field labels). */
export function humanize(p: Problem, kinds: ReadonlyMap<string, NodeType>): HumanProblem {
  const base: HumanProblem = {
    original: p.message,
    code: p.code,
    nodeId: p.node_id ?? null,
    edgeIndex: typeof p.edge_index === "number" ? p.edge_index : null,
    field: null,
    fieldLabel: null,
    text: capitalise(stripDot(p.message)),
    severity: (p as { severity?: "error" | "warning" }).severity ?? "error",
  };
  const kind = nodeKind(base.nodeId, kinds);
  let r: RegExpMatchArray | null;
  // node 'x': field config.url: String should have at least 1 character.
  if ((r = p.message.match(/^node (?:'[^']*'|"[^"]*"|#\d+): field ([^:]+): (.*)$/s))) {
    const field = fieldOf(r[1]!.trim());
    const label = fieldLabel(kind, field) ?? "This step";
    return { ...base, field, fieldLabel: label, text: plainFieldMessage(label, r[2]!, p.code) };
  }
  // node 'x': the template in config.body is invalid: unexpected '}' (line 1).
  if ((r = p.message.match(/^node '[^']*': the (template|expression) in (\S+) is invalid: (.*)$/s))) {
    const field = fieldOf(r[2]!);
    const label = fieldLabel(kind, field) ?? "This field";
    const what = r[1] === "template" ? "template" : "expression";
    return { ...base, field, fieldLabel: label, text: `The ${what} in ${label} is invalid: ${stripDot(r[3]!)}` };
  }
  // node 'x': config.code is not valid Python at line 2: invalid syntax.
  if ((r = p.message.match(/^node '[^']*': (config\.\S+) is not valid Python(.*?): (.*)$/s))) {
    const field = fieldOf(r[1]!);
    const label = fieldLabel(kind, field) ?? "Code";
    return { ...base, field, fieldLabel: label, text: `${label} is not valid Python${r[2]}: ${stripDot(r[3]!)}` };
  }
  // node 'x': config.code is 70000 bytes; the limit is … / in config.code, …
  if ((r = p.message.match(/^node '[^']*': (?:in )?(config\.[\w.]+)([ ,])(.*)$/s))) {
    const field = fieldOf(r[1]!);
    const label = fieldLabel(kind, field);
    const rest = stripDot(r[3]!);
    if (label) return { ...base, field, fieldLabel: label, text: r[2] === "," ? `${label}: ${rest}` : `${label} ${rest}` };
  }
  if (p.code === "timeout_branch_without_timeout") {
    return { ...base, field: "timeout_s", fieldLabel: fieldLabel(kind, "timeout_s"), text: "Set a timeout, or remove the “timeout” edge: without one the step would wait for ever" };
  }
  if (p.code === "unknown_child_workflow") {
    return { ...base, field: "workflow", fieldLabel: fieldLabel(kind, "workflow"), text: capitalise(stripDot(p.message.replace(/^node '[^']*' /, "this step ")) ) };
  }
  if (p.code === "secret_outside_activity" && (r = p.message.match(/^node '[^']*': (config\.[\w.]+) reads/))) {
    const field = fieldOf(r[1]!);
    return { ...base, field, fieldLabel: fieldLabel(kind, field), text: `${fieldLabel(kind, field) ?? "This field"} reads a secret, but only HTTP, Transform and Python steps may` };
  }
  if (p.code === "unreachable_node") return { ...base, text: "No path from Start reaches this step: connect it, or delete it" };
  if (p.code === "dead_end") return { ...base, text: "This step leads nowhere: connect it onward to the End" };
  if (p.code === "missing_end") return { ...base, text: "Add an End node and connect the last step to it" };
  if (p.code === "missing_start") return { ...base, text: "Add a Start node" };
  // Otherwise: the server's sentence without the `node 'x': ` it begins with (the list names the node).
  return { ...base, text: capitalise(stripDot(p.message.replace(/^node '[^']*': /, ""))) };
}

export function humanizeAll(problems: Problem[], nodes: { id: string; data: { kind: NodeType } }[]): HumanProblem[] {
  const kinds = new Map(nodes.map((n) => [n.id, n.data.kind]));
  return problems.map((p) => humanize(p, kinds));
}

/** The problems of one node's field, for the side panel. */
export function problemsOfField(problems: HumanProblem[], nodeId: string, field: string): HumanProblem[] {
  return problems.filter((p) => p.nodeId === nodeId && p.field === field);
}
