// Every node type the compiler understands, with the fields its side panel edits.
import type { Branch, NodeType } from "../api/types";

export type FieldKind = "text" | "template" | "number" | "select" | "json" | "code" | "workflow" | "boolean";

export interface FieldSpec {
  key: string;
  label: string;
  kind: FieldKind;
  options?: string[];
  placeholder?: string;
  help?: string;
  required?: boolean;
  /** A text field edited as a template (`{{ }}` inside) or as one Jinja expression. */
  editor?: "template" | "expression";
}

export interface NodeTypeSpec {
  type: NodeType;
  label: string;
  description: string;
  icon: string;
  /** Activity nodes run in the worker and accept retry / timeout / local options. */
  activity: boolean;
  /** Named outgoing handles; `null` is the plain "next" handle. */
  outputs: (Branch | null)[];
  hasInput: boolean;
  fields: FieldSpec[];
  defaults: () => Record<string, unknown>;
}

const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

export const NODE_TYPES: Record<NodeType, NodeTypeSpec> = {
  start: {
    type: "start",
    label: "Start",
    description: "Where a run begins; `input` holds the run input.",
    icon: "▶",
    activity: false,
    outputs: [null],
    hasInput: false,
    fields: [],
    defaults: () => ({}),
  },
  end: {
    type: "end",
    label: "End",
    description: "Finishes the run and returns its output.",
    icon: "■",
    activity: false,
    outputs: [],
    hasInput: true,
    fields: [
      {
        key: "output",
        label: "Output",
        kind: "template",
        placeholder: "{{ steps.shape }}",
        help: "The run's result: a template or JSON with templates. Empty: every step's output.",
      },
    ],
    defaults: () => ({}),
  },
  http_request: {
    type: "http_request",
    label: "HTTP request",
    description: "Calls a URL and returns status, headers and body.",
    icon: "⇄",
    activity: true,
    outputs: [null],
    hasInput: true,
    fields: [
      { key: "method", label: "Method", kind: "select", options: HTTP_METHODS, required: true },
      {
        key: "url",
        label: "URL",
        kind: "text",
        editor: "template",
        placeholder: "https://api.example.test/orders/{{ input.order_id }}",
        required: true,
      },
      { key: "headers", label: "Headers (JSON)", kind: "json", placeholder: '{"Accept": "application/json"}' },
      { key: "body", label: "Body", kind: "template", placeholder: '{"id": "{{ input.id }}"}' },
      { key: "timeout_s", label: "Request timeout (s)", kind: "number", placeholder: "30" },
      { key: "fail_on_status", label: "Fail on 4xx/5xx status", kind: "boolean" },
    ],
    defaults: () => ({ method: "GET", url: "" }),
  },
  transform: {
    type: "transform",
    label: "Transform",
    description: "Shapes data with templates into a new value.",
    icon: "ƒ",
    activity: false,
    outputs: [null],
    hasInput: true,
    fields: [
      {
        key: "output",
        label: "Output (JSON with templates)",
        kind: "template",
        placeholder: '{"total": "{{ steps.fetch.body.total }}"}',
        required: true,
      },
    ],
    defaults: () => ({ output: {} }),
  },
  condition: {
    type: "condition",
    label: "Condition",
    description: "Takes the true or the false branch.",
    icon: "◇",
    activity: false,
    outputs: ["true", "false"],
    hasInput: true,
    fields: [
      {
        key: "expression",
        label: "Expression",
        kind: "text",
        editor: "expression",
        placeholder: "steps.fetch.body.total > 100",
        required: true,
        help: "A Jinja expression over input and steps.",
      },
    ],
    defaults: () => ({ expression: "" }),
  },
  delay: {
    type: "delay",
    label: "Delay",
    description: "Waits on a durable timer.",
    icon: "◷",
    activity: false,
    outputs: [null],
    hasInput: true,
    fields: [{ key: "seconds", label: "Seconds", kind: "number", placeholder: "60", required: true }],
    defaults: () => ({ seconds: 1 }),
  },
  wait_for_signal: {
    type: "wait_for_signal",
    label: "Wait for signal",
    description: "Pauses until a signal arrives (approval, external event).",
    icon: "✉",
    activity: false,
    outputs: [null, "timeout"],
    hasInput: true,
    fields: [
      { key: "signal", label: "Signal name", kind: "text", placeholder: "approve", required: true },
      { key: "timeout_s", label: "Timeout (s)", kind: "number", placeholder: "wait for ever", help: "When it passes, the run takes the timeout output." },
    ],
    defaults: () => ({ signal: "approve" }),
  },
  python: {
    type: "python",
    label: "Python",
    description: "Runs your Python code as an activity in the project worker.",
    icon: "λ",
    activity: true,
    outputs: [null],
    hasInput: true,
    fields: [
      {
        key: "code",
        label: "Code",
        kind: "code",
        placeholder: "return {\"double\": input[\"n\"] * 2}",
        help: "A function body: input and steps are its arguments; return the node's output.",
        required: true,
      },
    ],
    defaults: () => ({ code: "return input" }),
  },
  for_each: {
    type: "for_each",
    label: "For each",
    description: "Maps a step over a list with bounded concurrency.",
    icon: "⟳",
    activity: true,
    outputs: [null],
    hasInput: true,
    fields: [
      {
        key: "items",
        label: "Items (expression)",
        kind: "text",
        editor: "expression",
        placeholder: "input.items",
        help: "An expression giving the list, e.g. steps.fetch.body.orders.",
        required: true,
      },
      { key: "concurrency", label: "Concurrency", kind: "number", placeholder: "5" },
      {
        key: "step",
        label: "Step (JSON: {type, config})",
        kind: "json",
        placeholder: '{"type": "http_request", "config": {"method": "GET", "url": "{{ item.url }}"}}',
        help: "An http_request, python, transform or child_workflow step run for every item; item and index hold the current element.",
        required: true,
      },
    ],
    defaults: () => ({ items: "input.items", concurrency: 5, step: { type: "transform", config: { output: "{{ item }}" } } }),
  },
  child_workflow: {
    type: "child_workflow",
    label: "Child workflow",
    description: "Runs another workflow of this project and waits for it.",
    icon: "↳",
    activity: false,
    outputs: [null],
    hasInput: true,
    fields: [
      { key: "workflow", label: "Workflow", kind: "workflow", required: true },
      { key: "input", label: "Input", kind: "template", placeholder: '{"order_id": "{{ input.order_id }}"}' },
    ],
    defaults: () => ({ workflow: "", input: {} }),
  },
};

export const PALETTE_ORDER: NodeType[] = [
  "start",
  "http_request",
  "transform",
  "condition",
  "delay",
  "wait_for_signal",
  "python",
  "for_each",
  "child_workflow",
  "end",
];

export function isNodeType(value: unknown): value is NodeType {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(NODE_TYPES, value);
}

/** A fresh, unique id for a node of `type`, e.g. `http_request_2`. */
export function newNodeId(type: NodeType, existing: Iterable<string>): string {
  const taken = new Set(existing);
  if (type === "start" && !taken.has("start")) return "start";
  if (type === "end" && !taken.has("end")) return "end";
  for (let n = 1; ; n += 1) {
    const id = `${type}_${n}`;
    if (!taken.has(id)) return id;
  }
}

/** Node ids become identifiers in generated code; keep them simple. */
export function validNodeId(id: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/.test(id);
}
