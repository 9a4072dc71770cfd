// The canvas's edges: a smooth step path with a "+" at its middle that inserts a step
// between its two ends (registered under React Flow's own "smoothstep" type name).
import { memo } from "react";
import { BaseEdge, EdgeLabelRenderer, getSmoothStepPath, type EdgeProps } from "@xyflow/react";
import { useCanvasActions } from "./canvasContext";
import { Plus } from "lucide-react";

function InsertableEdgeInner(props: EdgeProps) {
  const { id, source, target, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition } = props;
  const actions = useCanvasActions();
  const [path, labelX, labelY] = getSmoothStepPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition });
  const hasLabel = props.label !== undefined && props.label !== null && props.label !== "";
  return (
    <>
      <BaseEdge
        id={id}
        path={path}
        markerEnd={props.markerEnd}
        markerStart={props.markerStart}
        style={props.style}
        interactionWidth={props.interactionWidth}
        label={props.label}
        labelX={labelX}
        labelY={labelY - 22}
        labelStyle={props.labelStyle}
        labelShowBg={props.labelShowBg}
        labelBgStyle={props.labelBgStyle}
        labelBgPadding={props.labelBgPadding ?? [4, 2]}
        labelBgBorderRadius={props.labelBgBorderRadius ?? 4}
      />
      <EdgeLabelRenderer>
        <button
          type="button"
          className={`edge-insert nodrag nopan${props.selected ? " is-selected" : ""}${hasLabel ? " has-label" : ""}`}
          style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
          aria-label={`Insert a step between ${source} and ${target}`}
          title="Insert a step here"
          data-edge-insert={id}
          onClick={(e) => {
            e.stopPropagation();
            actions.insertOn(id, e.currentTarget);
          }}
        >
          <Plus size={14} strokeWidth={2.5} aria-hidden />
        </button>
      </EdgeLabelRenderer>
    </>
  );
}

export const InsertableEdge = memo(InsertableEdgeInner);
export const edgeTypes = { smoothstep: InsertableEdge };
