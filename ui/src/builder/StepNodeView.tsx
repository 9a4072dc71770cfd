import { memo } from "react";
import { Handle, Position, useNodeConnections, type NodeProps } from "@xyflow/react";
import type { Output } from "../lib/canvasOps";
import { useCanvasActions } from "./canvasContext";
import { ERROR_HANDLE, hasErrorHandle, type StepNode } from "../lib/graph";
import { NODE_TYPES } from "../lib/nodeTypes";
import { statusLabel } from "../lib/status";
import { NodeIcon } from "../components/icons";
import { Plus, TriangleAlert } from "lucide-react";

function summary(data: StepNode["data"]): string {
  const c = data.config ?? {};
  const s = (v: unknown) => (typeof v === "string" ? v : v === undefined || v === null ? "" : JSON.stringify(v));
  switch (data.kind) {
    case "http_request":
      return `${s(c["method"]) || "GET"} ${s(c["url"])}`;
    case "condition":
      return s(c["expression"]);
    case "delay":
      return c["seconds"] !== undefined ? `${s(c["seconds"])} s` : "";
    case "wait_for_signal":
      return `signal “${s(c["signal"])}”`;
    case "python":
      return s(c["code"]).split("\n")[0] ?? "";
    case "for_each":
      return `over ${s(c["items"])}`;
    case "child_workflow":
      return s(c["workflow"]);
    case "transform":
    case "end":
      return s(c["output"]);
    default:
      return "";
  }
}

/** The "+" of an output without an edge: opens the step menu to add a node after it. */
function OutputPlus({ nodeId, handle, side, left }: { nodeId: string; handle: Output; side: "bottom" | "right"; left?: string }) {
  const actions = useCanvasActions();
  const what = handle === ERROR_HANDLE ? " on error" : handle && handle !== "next" ? ` (${handle})` : "";
  return (
    <button
      type="button"
      className={`output-plus output-plus-${side} nodrag nopan`}
      style={left ? { left } : undefined}
      aria-label={`Add a step after ${nodeId}${what}`}
      title={`Add a step after this output${what}`}
      data-output={handle ?? ""}
      onClick={(e) => {
        e.stopPropagation();
        actions.addAfter(nodeId, handle, e.currentTarget);
      }}
    >
      <Plus size={14} strokeWidth={2.5} aria-hidden />
    </button>
  );
}

function StepNodeViewInner({ id, data, selected }: NodeProps<StepNode>) {
  const connections = useNodeConnections({ handleType: "source" });
  const used = new Set(connections.map((c) => c.sourceHandle ?? null));
  const spec = NODE_TYPES[data.kind];
  const problems = data.problems ?? [];
  const status = data.runStatus;
  const classes = ["step-node", `step-${data.kind}`];
  if (selected) classes.push("selected");
  if (problems.length > 0) classes.push("has-problem");
  if (status) classes.push(`run-${status}`);
  if (data.runInspected) classes.push("inspected");
  const text = summary(data);
  return (
    <div
      className={classes.join(" ")}
      role="group"
      aria-label={`Node ${id}`}
      data-node-id={id}
      data-node-type={data.kind}
      data-run-status={status ?? ""}
      data-problem={problems.length > 0 ? "true" : "false"}
    >
      {spec.hasInput && <Handle type="target" position={Position.Top} />}
      <div className="step-head">
        <span className="step-icon" aria-hidden>
          <NodeIcon type={data.kind} size={14} />
        </span>
        <span className="step-type">{spec.label}</span>
        {status && (
          <span className={`step-status status-${status}`} aria-label={`Status ${status}`}>
            {statusLabel(status)}
            {data.runAttempt && data.runAttempt > 1 ? ` · try ${data.runAttempt}` : ""}
          </span>
        )}
      </div>
      <div className="step-id mono">{id}</div>
      {text && (
        <div className="step-summary" title={text}>
          {text}
        </div>
      )}
      {problems.length > 0 && (
        <div className="step-problem step-warning" role="note" title={problems.join("\n")}>
          <TriangleAlert size={12} aria-hidden className="inline-icon" />{" "}
          {problems[0]}
          {problems.length > 1 && <span className="muted"> (+{problems.length - 1} more)</span>}
        </div>
      )}
      {status === "failed" && data.runError && (
        <div className="step-problem step-run-error" role="note">
          {data.runError}
        </div>
      )}
      {spec.outputs.length === 1 && spec.outputs[0] === null && <Handle type="source" position={Position.Bottom} />}
      {spec.outputs.length === 1 && spec.outputs[0] === null && !used.has(null) && <OutputPlus nodeId={id} handle={null} side="bottom" />}
      {/* After the plain output, so that edges without a handle id keep attaching to that one. */}
      {hasErrorHandle(data.kind) && (
        <>
          <Handle
            type="source"
            position={Position.Right}
            id={ERROR_HANDLE}
            className="handle-error"
            title="On error: drag from here to where the run goes when this step fails"
          />
          <span className="handle-label handle-label-error-side" aria-hidden>
            on error
          </span>
          {!used.has(ERROR_HANDLE) && <OutputPlus nodeId={id} handle={ERROR_HANDLE} side="right" />}
        </>
      )}
      {spec.outputs.length > 1 &&
        spec.outputs.map((branch, i) => {
          const left = `${((i + 1) * 100) / (spec.outputs.length + 1)}%`;
          return (
            <div key={branch ?? "next"}>
              <Handle
                type="source"
                position={Position.Bottom}
                id={branch ?? "next"}
                style={{ left }}
                className={`handle-${branch ?? "next"}`}
              />
              <span className={`handle-label handle-label-${branch ?? "next"}`} style={{ left }}>
                {branch ?? "next"}
              </span>
              {!used.has(branch ?? "next") && <OutputPlus nodeId={id} handle={branch ?? "next"} side="bottom" left={left} />}
            </div>
          );
        })}
    </div>
  );
}

export const StepNodeView = memo(StepNodeViewInner);
export const nodeTypes = { step: StepNodeView };
