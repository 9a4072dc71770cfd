import { useEffect, useMemo, useState } from "react";
import type { Branch, RetryPolicy, Workflow } from "../api/types";
import { ERROR_HANDLE, ERROR_LABEL, hasErrorHandle, isErrorEdge, type StepData, type StepEdge, type StepNode } from "../lib/graph";
import { formatFieldValue, parseJson, parseTemplateField } from "../lib/json";
import { upstreamOf } from "../lib/connectTargets";
import { problemsOfField, type HumanProblem } from "../lib/problems";
import { NODE_TYPES, validNodeId, type FieldSpec } from "../lib/nodeTypes";
import type { EditorMode, ScopeInfo } from "../lib/templateScope";
import { CodeEditor } from "../components/CodeEditor";
import { useNodeScope } from "./editorScope";
import { TemplatePreview } from "./TemplatePreview";
import { TESTABLE, TestStep } from "./TestStep";
import { useRenameStableKey } from "./stableKey";
import { connectTargets } from "../lib/connectTargets";
import { CloseIcon, NodeIcon } from "../components/icons";

export interface SidePanelProps {
  node: StepNode | null;
  edge: StepEdge | null;
  nodes: StepNode[];
  edges: StepEdge[];
  workflows: Workflow[];
  currentWorkflowId: string;
  onChangeNode: (id: string, patch: Partial<StepData>, coalesceKey: string) => void;
  onRenameNode: (id: string, newId: string) => void;
  onDeleteNode: (id: string) => void;
  onDeleteEdge: (id: string) => void;
  onConnect: (source: string, target: string, branch: Branch | "next" | "error" | null) => void;
  onChangeEdgeKind: (id: string, kind: "normal" | "error") => void;
  /** Compile problems in a person's words: each is shown under the field it concerns. */
  problems?: HumanProblem[];
}

export function SidePanel(props: SidePanelProps) {
  const { node, edge } = props;
  const [panelKey, onRenameNode] = useRenameStableKey(node?.id ?? null, props.onRenameNode);
  if (node) return <NodePanel key={panelKey} {...props} onRenameNode={onRenameNode} node={node} />;
  if (edge) {
    const source = props.nodes.find((n) => n.id === edge.source);
    const errorCapable = source ? hasErrorHandle(source.data.kind) : false;
    const isError = isErrorEdge(edge);
    const otherError = props.edges.some((e) => e.id !== edge.id && e.source === edge.source && isErrorEdge(e));
    return (
      <div className="panel-body" aria-label="Edge">
        <h2 className="panel-title">Edge</h2>
        <p>
          <span className="mono">{edge.source}</span> → <span className="mono">{edge.target}</span>
          {edge.label && !isError ? (
            <>
              {" "}
              on <strong>{String(edge.label)}</strong>
            </>
          ) : null}
        </p>
        {(errorCapable || isError) && (
          <div className="field">
            <label htmlFor="edge-kind">Edge kind</label>
            <select
              id="edge-kind"
              value={isError ? "error" : "normal"}
              onChange={(e) => props.onChangeEdgeKind(edge.id, e.target.value === "error" ? "error" : "normal")}
              aria-describedby="edge-kind-help"
            >
              <option value="normal">normal: when {edge.source} succeeds</option>
              <option value="error" disabled={otherError && !isError}>
                {ERROR_LABEL}: when {edge.source} fails after its retries
              </option>
            </select>
            <span id="edge-kind-help" className="muted small">
              {isError ? (
                <>
                  The run goes on along this edge instead of failing; <code>error</code> (
                  <code>type</code>, <code>message</code>, <code>node_id</code>) holds what went wrong.
                </>
              ) : otherError ? (
                <>{edge.source} already has an error edge.</>
              ) : (
                <>An error edge is taken when the step fails after its retries.</>
              )}
            </span>
          </div>
        )}
        <button type="button" className="btn btn-danger btn-small" onClick={() => props.onDeleteEdge(edge.id)}>
          Delete edge
        </button>
      </div>
    );
  }
  return (
    <div className="panel-body">
      <h2 className="panel-title">Configure</h2>
      <p className="muted">
        Select a node to configure it. Add nodes from the palette (click or drag onto the canvas), then connect a
        node’s bottom handle to another node’s top handle.
      </p>
      <ul className="muted small help-list">
        <li>
          <kbd>Delete</kbd> removes the selection
        </li>
        <li>
          <kbd>Ctrl</kbd>+<kbd>Z</kbd> undo, <kbd>Ctrl</kbd>+<kbd>Shift</kbd>+<kbd>Z</kbd> redo
        </li>
        <li>Condition nodes have a true and a false output</li>
        <li>Python and HTTP steps have an “on error” output on their right side</li>
      </ul>
    </div>
  );
}

function NodePanel({
  node,
  nodes,
  edges,
  workflows,
  currentWorkflowId,
  onChangeNode,
  onRenameNode,
  onDeleteNode,
  onDeleteEdge,
  onConnect,
  problems = [],
}: SidePanelProps & { node: StepNode }) {
  const spec = NODE_TYPES[node.data.kind];
  const mine = problems.filter((p) => p.nodeId === node.id);
  const fieldKeys = new Set(spec.fields.map((f) => f.key));
  const shownElsewhere = (p: HumanProblem) => p.field !== null && (fieldKeys.has(p.field) || (spec.activity && (p.field === "timeout_s" || p.field.startsWith("retry"))));
  const general = mine.filter((p) => !shownElsewhere(p));
  const upstream = useMemo(() => upstreamOf(node.id, edges), [node.id, edges]);
  const scope = useNodeScope(currentWorkflowId, node, nodes, edges);
  const errorSources = edges.filter((e) => e.target === node.id && isErrorEdge(e)).map((e) => e.source);
  const setConfig = (key: string, value: unknown) => {
    const config = { ...node.data.config };
    if (value === undefined) delete config[key];
    else config[key] = value;
    onChangeNode(node.id, { config }, `${node.id}.config.${key}`);
  };
  return (
    <div className="panel-body" aria-label={`Configure ${node.id}`}>
      <h2 className="panel-title">
        <span aria-hidden className="inline-icon"><NodeIcon type={spec.type} size={14} /></span> {spec.label}
      </h2>
      <p className="muted small">{spec.description}</p>
      {general.length > 0 && (
        <ul className="panel-problems" aria-label={`Problems of ${node.id}`}>
          {general.map((p, i) => (
            <li key={i} className="field-problem" title={p.original}>
              {p.text}
            </li>
          ))}
        </ul>
      )}
      <RenameField id={node.id} taken={nodes.map((n) => n.id)} onRename={(newId) => onRenameNode(node.id, newId)} />
      {spec.fields.map((f) => (
        <ConfigField
          key={f.key}
          nodeId={node.id}
          problems={problemsOfField(mine, node.id, f.key)}
          scope={scope}
          field={f}
          value={node.data.config[f.key]}
          onChange={(v) => setConfig(f.key, v)}
          workflows={workflows.filter((w) => w.id !== currentWorkflowId)}
        />
      ))}
      {spec.fields.some((f) => f.kind === "template" || f.kind === "text" || f.kind === "code") && (
        <div className="hint" aria-label="Template help">
          <strong>Templates</strong>: <code>{"{{ input.field }}"}</code> is the run input;{" "}
          {upstream.length > 0 ? (
            <>
              outputs so far: {upstream.map((id) => <code key={id}>{`steps.${id}`}</code>).reduce<React.ReactNode[]>(
                (acc, el, i) => (i === 0 ? [el] : [...acc, ", ", el]),
                [],
              )}
              .
            </>
          ) : (
            <>no step runs before this one yet.</>
          )}{" "}
          An HTTP step’s output is <code>{"{status, headers, body}"}</code>.
          {errorSources.length > 0 && (
            <>
              {" "}
              This step is on the error path of {errorSources.map((id) => <code key={id}>{id}</code>)}:{" "}
              <code>{"{{ error.message }}"}</code> (and <code>error.type</code>, <code>error.node_id</code>) say
              what failed.
            </>
          )}
        </div>
      )}
      {TESTABLE.has(node.data.kind) && <TestStep workflowId={currentWorkflowId} node={node} scope={scope} />}
      {spec.activity && <ActivityOptions node={node} onChangeNode={onChangeNode} />}
      {spec.activity && <FieldProblems id={`${node.id}-activity-problems`} problems={mine.filter((p) => p.field === "timeout_s" || (p.field ?? "").startsWith("retry"))} />}
      {spec.outputs.length > 0 && (
        <ConnectForm node={node} nodes={nodes} edges={edges} onConnect={onConnect} onDeleteEdge={onDeleteEdge} />
      )}
      <div className="panel-footer">
        <button type="button" className="btn btn-danger btn-small" onClick={() => onDeleteNode(node.id)}>
          Delete node
        </button>
      </div>
    </div>
  );
}

function RenameField({ id, taken, onRename }: { id: string; taken: string[]; onRename: (id: string) => void }) {
  const [text, setText] = useState(id);
  useEffect(() => setText(id), [id]);
  const error =
    text === id
      ? null
      : !validNodeId(text)
        ? "Use letters, digits, _ or -, starting with a letter or _."
        : taken.includes(text)
          ? "Another node has this id."
          : null;
  return (
    <div className="field">
      <label htmlFor="node-id">Node id</label>
      <input
        id="node-id"
        className="mono"
        value={text}
        onChange={(e) => setText(e.target.value)}
        onBlur={() => {
          if (!error && text !== id) onRename(text);
          else if (error) setText(id);
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !error && text !== id) onRename(text);
        }}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? "node-id-error" : undefined}
      />
      {error && (
        <span id="node-id-error" className="text-error small">
          {error}
        </span>
      )}
    </div>
  );
}

/** Compile problems of one field, under it, in a person's words (the compiler's on hover). */
function FieldProblems({ id, problems }: { id: string; problems: HumanProblem[] }) {
  if (problems.length === 0) return null;
  return (
    <span id={id} className="field-problems">
      {problems.map((p, i) => (
        <span key={i} className="field-problem" title={p.original} data-original={p.original}>
          {p.text}
        </span>
      ))}
    </span>
  );
}

interface ConfigFieldProps {
  nodeId: string;
  problems?: HumanProblem[];
  scope?: ScopeInfo;
  field: FieldSpec;
  value: unknown;
  onChange: (v: unknown) => void;
  workflows: Workflow[];
}

function ConfigField(props: ConfigFieldProps) {
  if (props.field.kind === "boolean") {
    // Booleans default to true in the compiler (fail_on_status); unchecked stores false.
    return (
      <label className="checkbox field">
        <input
          type="checkbox"
          checked={props.value !== false}
          onChange={(e) => props.onChange(e.target.checked ? undefined : false)}
        />
        {props.field.label}
      </label>
    );
  }
  return <TextConfigField {...props} />;
}

/** The code editor a field gets, if any: python code, templates, expressions. */
function editorModeOf(field: FieldSpec): EditorMode | null {
  if (field.kind === "code") return "python";
  if (field.kind === "template" || field.kind === "json") return "template";
  return field.kind === "text" && field.editor ? field.editor : null;
}

function TextConfigField({ nodeId, field, value, onChange, workflows, problems = [], scope }: ConfigFieldProps) {
  const inputId = `field-${nodeId}-${field.key}`;
  const [text, setText] = useState(() => formatFieldValue(value));
  const [error, setError] = useState<string | null>(null);
  // Undo/redo change the value from outside: show it unless it is what the text already says.
  useEffect(() => {
    const parsed = parseFor(field, text);
    if (!parsed.ok || JSON.stringify(parsed.value) !== JSON.stringify(value)) {
      setText(formatFieldValue(value));
      setError(null);
    }
    // Only an outside change of `value` may reset the text being typed.
  }, [value]);

  const update = (next: string) => {
    setText(next);
    const parsed = parseFor(field, next);
    if (parsed.ok) {
      setError(null);
      onChange(parsed.value);
    } else {
      setError(parsed.error);
    }
  };

  const mode = editorModeOf(field);
  const problemText = problems.map((p) => p.original).join("\n");
  const editorProblems = useMemo(() => (problemText ? problemText.split("\n").map((message) => ({ message })) : []), [problemText]);
  const multiLine = mode !== null && field.kind !== "text";
  const describedBy = [field.help ? `${inputId}-help` : "", multiLine ? `${inputId}-keys` : "", error ? `${inputId}-error` : "", problems.length > 0 ? `${inputId}-problems` : ""]
    .filter(Boolean)
    .join(" ");
  const common = {
    id: inputId,
    "aria-invalid": error || problems.length > 0 ? true : undefined,
    "aria-describedby": describedBy || undefined,
  };
  let control: React.ReactNode;
  switch (mode ? "editor" : field.kind) {
    case "editor":
      control = (
        <CodeEditor
          id={inputId}
          label={field.label}
          describedBy={describedBy || undefined}
          value={text}
          onChange={update}
          mode={mode as EditorMode}
          singleLine={!multiLine}
          scope={scope}
          problems={editorProblems}
          placeholder={field.placeholder}
          invalid={Boolean(error) || problems.length > 0}
        />
      );
      break;
    case "select":
      control = (
        <select {...common} value={text} onChange={(e) => update(e.target.value)}>
          {(field.options ?? []).map((o) => (
            <option key={o}>{o}</option>
          ))}
        </select>
      );
      break;
    case "workflow":
      control = (
        <select {...common} value={text} onChange={(e) => update(e.target.value)}>
          <option value="">Choose a workflow…</option>
          {workflows.map((w) => (
            <option key={w.id} value={w.key}>
              {w.name} ({w.key})
            </option>
          ))}
        </select>
      );
      break;
    case "number":
      control = (
        <input {...common} type="number" min={0} step="any" value={text} placeholder={field.placeholder} onChange={(e) => update(e.target.value)} />
      );
      break;
    case "text":
      control = <input {...common} type="text" value={text} placeholder={field.placeholder} onChange={(e) => update(e.target.value)} />;
      break;
    default:
      control = (
        <textarea
          {...common}
          className={field.kind === "code" || field.kind === "json" ? "mono" : undefined}
          rows={field.kind === "code" ? 8 : 3}
          spellCheck={false}
          value={text}
          placeholder={field.placeholder}
          onChange={(e) => update(e.target.value)}
        />
      );
  }
  return (
    <div className="field">
      <label htmlFor={inputId} id={`${inputId}-label`}>
        {field.label}
        {field.required && <span className="required" aria-hidden> *</span>}
      </label>
      {control}
      {field.help && (
        <span id={`${inputId}-help`} className="muted small">
          {field.help}
        </span>
      )}
      {multiLine && (
        <span id={`${inputId}-keys`} className="muted small">
          Tab indents; Escape then Tab leaves the editor. Ctrl+Space suggests names.
        </span>
      )}
      {error && (
        <span id={`${inputId}-error`} className="text-error small" role="alert">
          {error}
        </span>
      )}
      <FieldProblems id={`${inputId}-problems`} problems={problems} />
      {mode && mode !== "python" && scope && field.key !== "step" && !error && (
        <TemplatePreview id={`${inputId}-preview`} label={field.label} value={parseFor(field, text).ok ? value : undefined} scope={scope} expression={mode === "expression"} />
      )}
    </div>
  );
}

function parseFor(field: FieldSpec, text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  switch (field.kind) {
    case "number": {
      if (text.trim() === "") return { ok: true, value: undefined };
      const n = Number(text);
      return Number.isFinite(n) && n >= 0 ? { ok: true, value: n } : { ok: false, error: "Enter a number ≥ 0." };
    }
    case "json":
      if (text.trim() === "") return { ok: true, value: undefined };
      return parseJson(text);
    case "template":
      if (text.trim() === "") return { ok: true, value: undefined };
      return parseTemplateField(text);
    default:
      return { ok: true, value: text === "" && !field.required ? undefined : text };
  }
}

function ActivityOptions({
  node,
  onChangeNode,
}: {
  node: StepNode;
  onChangeNode: SidePanelProps["onChangeNode"];
}) {
  const retry = node.data.retry ?? {};
  const setRetry = (key: keyof RetryPolicy, raw: string) => {
    const next: RetryPolicy = { ...retry };
    if (raw.trim() === "") delete next[key];
    else {
      const n = Number(raw);
      if (!Number.isFinite(n) || n < 0) return;
      next[key] = n;
    }
    onChangeNode(node.id, { retry: next }, `${node.id}.retry.${key}`);
  };
  const num = (v: number | undefined) => (v === undefined ? "" : String(v));
  return (
    <fieldset className="fieldset">
      <legend>Activity options</legend>
      <div className="grid-2">
        <label className="field">
          <span>Max attempts</span>
          <input type="number" min={1} value={num(retry.maximum_attempts)} placeholder={node.data.kind === "python" && Object.keys(retry).length === 0 ? "1" : "3"} onChange={(e) => setRetry("maximum_attempts", e.target.value)} />
        </label>
        <label className="field">
          <span>Initial interval (s)</span>
          <input type="number" min={0} step="any" value={num(retry.initial_interval_s)} placeholder="1" onChange={(e) => setRetry("initial_interval_s", e.target.value)} />
        </label>
        <label className="field">
          <span>Backoff coefficient</span>
          <input type="number" min={1} step="any" value={num(retry.backoff_coefficient)} placeholder="2" onChange={(e) => setRetry("backoff_coefficient", e.target.value)} />
        </label>
        <label className="field">
          <span>Activity timeout (s)</span>
          <input
            type="number"
            min={0}
            step="any"
            value={num(node.data.timeout_s)}
            placeholder="60"
            onChange={(e) => {
              const raw = e.target.value;
              const n = Number(raw);
              if (raw.trim() !== "" && (!Number.isFinite(n) || n < 0)) return;
              onChangeNode(node.id, { timeout_s: raw.trim() === "" ? undefined : n }, `${node.id}.timeout_s`);
            }}
          />
        </label>
      </div>
      <label className="checkbox">
        <input
          type="checkbox"
          checked={Boolean(node.data.local)}
          onChange={(e) => onChangeNode(node.id, { local: e.target.checked }, `${node.id}.local`)}
        />
        Run as a local activity
      </label>
    </fieldset>
  );
}

function ConnectForm({
  node,
  nodes,
  edges,
  onConnect,
  onDeleteEdge,
}: {
  node: StepNode;
  nodes: StepNode[];
  edges: StepEdge[];
  onConnect: SidePanelProps["onConnect"];
  onDeleteEdge: SidePanelProps["onDeleteEdge"];
}) {
  const spec = NODE_TYPES[node.data.kind];
  const targets = connectTargets(node.id, nodes, edges, (n) => NODE_TYPES[n.data.kind].hasInput);
  const outgoing = edges.filter((e) => e.source === node.id);
  const [target, setTarget] = useState("");
  const [branch, setBranch] = useState<string>(spec.outputs[0] ?? "next");
  const errorCapable = hasErrorHandle(node.data.kind);
  const hasError = outgoing.some((e) => isErrorEdge(e));
  const outputs: { value: string; label: string; disabled?: boolean }[] = spec.outputs.map((b) => ({
    value: b ?? "next",
    label: b ?? "next",
  }));
  if (errorCapable) outputs.push({ value: ERROR_HANDLE, label: ERROR_LABEL, disabled: hasError });
  if (targets.length === 0 && outgoing.length === 0) return null;
  return (
    <fieldset className="fieldset">
      <legend>Outgoing edges</legend>
      {outgoing.length === 0 ? (
        <p className="muted small">None yet: this step leads nowhere.</p>
      ) : (
        <ul className="edge-list">
          {outgoing.map((e) => {
            const b = typeof e.label === "string" ? e.label : null;
            const text = `${node.id} → ${e.target}${b ? ` (${b})` : ""}`;
            return (
              <li key={e.id}>
                <span className="mono small">{text}</span>
                <button type="button" className="icon-btn" aria-label={`Remove edge ${text}`} onClick={() => onDeleteEdge(e.id)}>
                  <CloseIcon />
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <div className="inline wrap connect-row">
        {outputs.length > 1 && (
          <select aria-label="Output" value={branch} onChange={(e) => setBranch(e.target.value)}>
            {outputs.map((o) => (
              <option key={o.value} value={o.value} disabled={o.disabled}>
                {o.label}
              </option>
            ))}
          </select>
        )}
        <select aria-label="Connect to" value={target} onChange={(e) => setTarget(e.target.value)}>
          <option value="">Choose a node…</option>
          {targets.map((n) => (
            <option key={n.id} value={n.id}>
              {n.id}
            </option>
          ))}
        </select>
        <button
          type="button"
          className="btn btn-small"
          disabled={!target}
          onClick={() => {
            const b =
              branch === ERROR_HANDLE
                ? "error"
                : spec.outputs.length > 1
                  ? (branch as Branch | "next")
                  : null;
            onConnect(node.id, target, b);
            setTarget("");
            if (branch === ERROR_HANDLE) setBranch(spec.outputs[0] ?? "next");
          }}
        >
          Add edge
        </button>
      </div>
    </fieldset>
  );
}
