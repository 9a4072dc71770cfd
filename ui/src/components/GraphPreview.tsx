// A small read-only canvas of a version's graph; nodes may carry a diff mark.
import { Background, ReactFlow, ReactFlowProvider, type Edge, type Node } from "@xyflow/react";
import { useMemo } from "react";
import type { Graph } from "../api/types";
import { graphToFlow } from "../lib/graph";
import type { ChangeKind } from "../lib/graphDiff";
import { NODE_TYPES } from "../lib/nodeTypes";

const MARK: Record<ChangeKind, string> = { added: "added", removed: "removed", changed: "changed" };

export function GraphPreview({
  graph,
  label,
  marks = {},
}: {
  graph: Graph;
  label: string;
  /** Node id → its change, shown as a coloured outline and a word. */
  marks?: Record<string, ChangeKind | undefined>;
}) {
  const { nodes, edges } = useMemo(() => {
    const flow = graphToFlow(graph);
    const nodes: Node[] = flow.nodes.map((n) => {
      const mark = marks[n.id];
      return {
        id: n.id,
        position: n.position,
        data: { label: `${n.id}${mark ? ` (${MARK[mark]})` : ""} · ${NODE_TYPES[n.data.kind].label}` },
        className: `preview-node${mark ? ` preview-${mark}` : ""}`,
        draggable: false,
        connectable: false,
        selectable: false,
        ariaLabel: `${n.id}, ${NODE_TYPES[n.data.kind].label}${mark ? `, ${MARK[mark]}` : ""}`,
      };
    });
    const edges: Edge[] = flow.edges.map((e) => ({ ...e, type: "smoothstep", selectable: false, focusable: false }));
    return { nodes, edges };
  }, [graph, marks]);
  return (
    <div className="graph-preview" role="img" aria-label={label}>
      <ReactFlowProvider>
        <ReactFlow
          nodes={nodes}
          edges={edges}
          fitView
          fitViewOptions={{ padding: 0.15, maxZoom: 1 }}
          minZoom={0.2}
          nodesDraggable={false}
          nodesConnectable={false}
          elementsSelectable={false}
          nodesFocusable={false}
          edgesFocusable={false}
          zoomOnScroll={false}
          panOnScroll
          proOptions={{ hideAttribution: true }}
        >
          <Background gap={18} />
        </ReactFlow>
      </ReactFlowProvider>
    </div>
  );
}
