import { memo } from "react";
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { ERROR_HANDLE, hasErrorHandle, type StepNode } from "../lib/graph";
import { NODE_TYPES } from "../lib/nodeTypes";
import { statusLabel } from "../lib/status";

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

function StepNodeViewInner({ id, data, selected }: NodeProps<StepNode>) {
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
          {spec.icon}
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
      {problems.map((m, i) => (
        <div key={i} className="step-problem" role="note">
          {m}
        </div>
      ))}
      {status === "failed" && data.runError && (
        <div className="step-problem step-run-error" role="note">
          {data.runError}
        </div>
      )}
      {spec.outputs.length === 1 && spec.outputs[0] === null && <Handle type="source" position={Position.Bottom} />}
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
            </div>
          );
        })}
    </div>
  );
}

export const StepNodeView = memo(StepNodeViewInner);
export const nodeTypes = { step: StepNodeView };
