import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from "react";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { useQueryClient } from "@tanstack/react-query";
import {
  Background,
  Controls,
  ReactFlow,
  ReactFlowProvider,
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type NodeChange,
} from "@xyflow/react";
import { ApiError } from "../api/client";
import { buildWorkflow, compileWorkflow, keys, useProject, useSaveWorkflow, useWorkflow, useWorkflows } from "../api/hooks";
import { useLiveExecution } from "../api/live";
import type { Branch, NodeType, Problem, Workflow } from "../api/types";
import { BuildDialog } from "../builder/BuildDialog";
import { RunPanel } from "../builder/RunPanel";
import { StepInspector } from "../builder/StepInspector";
import { SidePanel } from "../builder/SidePanel";
import { TriggersPanel } from "../builder/TriggersPanel";
import { nodeTypes } from "../builder/StepNodeView";
import { ErrorState, Loading } from "../components/ui";
import { WorkerIndicator } from "../components/workers";
import {
  applyProblems,
  canConnect,
  edgeKindProps,
  ERROR_HANDLE,
  flowToGraph,
  freeSpot,
  graphToFlow,
  NODE_WIDTH,
  type StepData,
  type StepEdge,
  type StepNode,
} from "../lib/graph";
import { canRedo, canUndo, createHistory, push, redo, replace, seal, undo, type History } from "../lib/history";
import { NODE_TYPES, PALETTE_ORDER, newNodeId } from "../lib/nodeTypes";
import { isTerminal } from "../lib/status";

interface Doc {
  nodes: StepNode[];
  edges: StepEdge[];
}

const DND_TYPE = "application/x-runloom-node";

export function BuilderPage() {
  const { workflowId } = useParams();
  const workflow = useWorkflow(workflowId);
  if (workflow.isLoading) return <Loading what="workflow" />;
  if (workflow.isError) return <ErrorState error={workflow.error} retry={() => void workflow.refetch()} />;
  if (!workflow.data) return null;
  return (
    <ReactFlowProvider>
      <Builder key={workflow.data.id} workflow={workflow.data} />
    </ReactFlowProvider>
  );
}

function graphKey(doc: Doc): string {
  return JSON.stringify(flowToGraph(doc.nodes, doc.edges));
}

function isEditable(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

function Builder({ workflow }: { workflow: Workflow }) {
  const qc = useQueryClient();
  const flow = useReactFlow();
  const canvasRef = useRef<HTMLDivElement>(null);
  const [params, setParams] = useSearchParams();
  const runId = params.get("run");
  const stepId = params.get("step");
  const project = useProject(workflow.project_id, 3000);
  const siblings = useWorkflows(workflow.project_id);
  const save = useSaveWorkflow(workflow.id);

  const [history, setHistory] = useState<History<Doc>>(() => createHistory(graphToFlow(workflow.graph)));
  const [savedKey, setSavedKey] = useState(() => graphKey(graphToFlow(workflow.graph)));
  const [problems, setProblems] = useState<Problem[]>([]);
  const [notice, setNotice] = useState<{ tone: "ok" | "error"; text: string } | null>(null);
  const [building, setBuilding] = useState(false);
  const [buildOpen, setBuildOpen] = useState(false);
  const [triggersOpen, setTriggersOpen] = useState(false);
  const [buildError, setBuildError] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);
  const [tab, setTab] = useState<"node" | "run">(runId ? "run" : "node");
  const dragging = useRef(false);

  const doc = history.present;
  const dirty = graphKey(doc) !== savedKey;
  const run = useLiveExecution(runId);

  useEffect(() => {
    if (runId) setTab("run");
  }, [runId]);

  // The worker's state changes with runs: refresh the indicator when a run starts or ends.
  const runStatus = run.execution?.status;
  useEffect(() => {
    if (runStatus) void qc.invalidateQueries({ queryKey: keys.project(workflow.project_id) });
  }, [runStatus, qc, workflow.project_id]);

  // Problems and run states are display-only overlays, never part of the document or history.
  const display = useMemo(() => {
    const withProblems = applyProblems(doc.nodes, doc.edges, problems);
    const states = run.execution?.node_states ?? null;
    const over = run.execution ? isTerminal(run.execution.status) : false;
    const nodes = withProblems.nodes.map((n) => {
      if (!runId || !states) return n;
      const s = states[n.id];
      // Once the run is over, a step still "pending" was never reached: show it plain.
      const status = over && s?.status === "pending" ? undefined : s?.status;
      return {
        ...n,
        data: {
          ...n.data,
          runStatus: status,
          runError: s?.error ?? null,
          runAttempt: s?.attempt ?? null,
          runInspected: n.id === stepId,
        },
      };
    });
    return { nodes, edges: withProblems.edges };
  }, [doc, problems, run.execution, runId, stepId]);

  const selectedNode = doc.nodes.find((n) => n.selected) ?? null;
  const selectedEdge = selectedNode ? null : (doc.edges.find((e) => e.selected) ?? null);

  const onNodesChange = useCallback((changes: NodeChange<StepNode>[]) => {
    setHistory((h) => {
      const nodes = applyNodeChanges(changes, h.present.nodes);
      let edges = h.present.edges;
      const removed = changes.filter((c) => c.type === "remove").map((c) => c.id);
      if (removed.length > 0) edges = edges.filter((e) => !removed.includes(e.source) && !removed.includes(e.target));
      const next = { nodes, edges };
      const structural = changes.some((c) => c.type === "remove" || c.type === "add" || c.type === "replace");
      if (structural) return push(h, next);
      const moves = changes.filter((c) => c.type === "position");
      if (moves.length > 0) {
        const isDragging = moves.some((c) => c.type === "position" && c.dragging);
        const key = `drag:${moves.map((c) => ("id" in c ? c.id : "")).join(",")}`;
        if (isDragging) {
          dragging.current = true;
          return push(h, next, key);
        }
        if (dragging.current) {
          dragging.current = false;
          return seal(push(h, next, key));
        }
        return push(h, next);
      }
      return replace(h, next);
    });
  }, []);

  const onEdgesChange = useCallback((changes: EdgeChange<StepEdge>[]) => {
    setHistory((h) => {
      const edges = applyEdgeChanges(changes, h.present.edges);
      const next = { nodes: h.present.nodes, edges };
      return changes.some((c) => c.type === "remove" || c.type === "add") ? push(h, next) : replace(h, next);
    });
  }, []);

  const connect = useCallback((source: string, target: string, handle: Branch | "next" | "error" | null) => {
    setHistory((h) => {
      const conn = { source, target, sourceHandle: handle };
      if (!canConnect(h.present.edges, h.present.nodes, conn)) return h;
      const isBranch = handle === "true" || handle === "false" || handle === "timeout";
      const edge: StepEdge = {
        id: `e-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`,
        source,
        target,
        type: "smoothstep",
        ...(handle ? { sourceHandle: handle } : {}),
        ...(isBranch ? { label: handle, className: `edge-${handle}` } : {}),
        ...(handle === ERROR_HANDLE ? edgeKindProps("error") : {}),
      };
      return push(h, { nodes: h.present.nodes, edges: [...h.present.edges, edge] });
    });
  }, []);

  const onConnect = useCallback(
    (c: Connection) => {
      connect(c.source, c.target, (c.sourceHandle as Branch | "next" | "error" | null) ?? null);
    },
    [connect],
  );

  const addNode = useCallback(
    (type: NodeType, position?: { x: number; y: number }) => {
      setHistory((h) => {
        const id = newNodeId(type, h.present.nodes.map((n) => n.id));
        let pos = position;
        if (!pos) {
          const rect = canvasRef.current?.getBoundingClientRect();
          const center = rect
            ? flow.screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 3 })
            : { x: 0, y: 0 };
          pos = freeSpot(h.present.nodes, { x: center.x - NODE_WIDTH / 2, y: center.y });
        }
        const node: StepNode = {
          id,
          type: "step",
          position: pos,
          selected: true,
          data: { kind: type, config: NODE_TYPES[type].defaults() },
        };
        const nodes = h.present.nodes.map((n) => (n.selected ? { ...n, selected: false } : n));
        const edges = h.present.edges.map((e) => (e.selected ? { ...e, selected: false } : e));
        return push(h, { nodes: [...nodes, node], edges });
      });
      setTab("node");
    },
    [flow],
  );

  const onDrop = useCallback(
    (event: DragEvent<HTMLDivElement>) => {
      event.preventDefault();
      const type = event.dataTransfer.getData(DND_TYPE) as NodeType;
      if (!type || !(type in NODE_TYPES)) return;
      const pos = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      addNode(type, { x: pos.x - 90, y: pos.y - 30 });
    },
    [addNode, flow],
  );

  const changeNode = useCallback((id: string, patch: Partial<StepData>, coalesceKey: string) => {
    setHistory((h) => {
      const nodes = h.present.nodes.map((n) => {
        if (n.id !== id) return n;
        const data = { ...n.data, ...patch };
        for (const [k, v] of Object.entries(patch)) if (v === undefined) delete data[k];
        return { ...n, data };
      });
      return push(h, { nodes, edges: h.present.edges }, coalesceKey);
    });
  }, []);

  const renameNode = useCallback((id: string, newId: string) => {
    setHistory((h) => {
      if (h.present.nodes.some((n) => n.id === newId)) return h;
      const nodes = h.present.nodes.map((n) => (n.id === id ? { ...n, id: newId } : n));
      const edges = h.present.edges.map((e) => ({
        ...e,
        source: e.source === id ? newId : e.source,
        target: e.target === id ? newId : e.target,
      }));
      return push(h, { nodes, edges });
    });
    setProblems((ps) => ps.map((p) => (p.node_id === id ? { ...p, node_id: newId } : p)));
  }, []);

  const deleteNode = useCallback((id: string) => {
    setHistory((h) =>
      push(h, {
        nodes: h.present.nodes.filter((n) => n.id !== id),
        edges: h.present.edges.filter((e) => e.source !== id && e.target !== id),
      }),
    );
  }, []);

  const changeEdgeKind = useCallback((id: string, kind: "normal" | "error") => {
    setHistory((h) => {
      const edge = h.present.edges.find((e) => e.id === id);
      if (!edge) return h;
      const others = h.present.edges.filter((e) => e.id !== id);
      const next = { ...edge, ...edgeKindProps(kind) };
      if (!canConnect(others, h.present.nodes, next)) return h;
      return push(h, { nodes: h.present.nodes, edges: h.present.edges.map((e) => (e.id === id ? next : e)) });
    });
  }, []);

  const deleteEdge = useCallback((id: string) => {
    setHistory((h) => push(h, { nodes: h.present.nodes, edges: h.present.edges.filter((e) => e.id !== id) }));
  }, []);

  // Undo / redo from the keyboard, except while typing in a field.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || isEditable(e.target)) return;
      const k = e.key.toLowerCase();
      if (k === "z" && !e.shiftKey) {
        e.preventDefault();
        setHistory(undo);
      } else if ((k === "z" && e.shiftKey) || k === "y") {
        e.preventDefault();
        setHistory(redo);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  // Warn before leaving with unsaved changes.
  useEffect(() => {
    if (!dirty) return undefined;
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
    };
    window.addEventListener("beforeunload", onBeforeUnload);
    return () => window.removeEventListener("beforeunload", onBeforeUnload);
  }, [dirty]);

  const doSave = useCallback(async (): Promise<boolean> => {
    const graph = flowToGraph(doc.nodes, doc.edges);
    try {
      await save.mutateAsync({ name: workflow.name, description: workflow.description, graph });
      setSavedKey(JSON.stringify(graph));
      setNotice({ tone: "ok", text: "Saved." });
      return true;
    } catch (err) {
      setNotice({ tone: "error", text: `Could not save: ${err instanceof Error ? err.message : String(err)}` });
      return false;
    }
  }, [doc, save, workflow.name, workflow.description]);

  const showProblems = (err: unknown): boolean => {
    if (err instanceof ApiError && err.status === 422 && err.problems.length > 0) {
      setProblems(err.problems);
      setNotice({ tone: "error", text: `${err.problems.length} problem${err.problems.length > 1 ? "s" : ""} to fix before this workflow can be built.` });
      return true;
    }
    return false;
  };

  const check = async () => {
    setChecking(true);
    setNotice(null);
    try {
      if (!(await doSave())) return;
      await compileWorkflow(workflow.id);
      setProblems([]);
      setNotice({ tone: "ok", text: "No problems: the workflow compiles." });
    } catch (err) {
      if (!showProblems(err)) setNotice({ tone: "error", text: err instanceof Error ? err.message : String(err) });
    } finally {
      setChecking(false);
    }
  };

  const build = async (input: Record<string, unknown>) => {
    setBuilding(true);
    setBuildError(null);
    try {
      if (!(await doSave())) {
        setBuildError("The graph could not be saved; see the message above the canvas.");
        return;
      }
      const r = await buildWorkflow(workflow.id, input);
      setProblems([]);
      setBuildOpen(false);
      setNotice({ tone: "ok", text: `Built version v${r.version}; the run has started.` });
      void qc.invalidateQueries({ queryKey: keys.workflow(workflow.id) });
      void qc.invalidateQueries({ queryKey: keys.versions(workflow.id) });
      void qc.invalidateQueries({ queryKey: keys.project(workflow.project_id) });
      setParams((p) => {
        const next = new URLSearchParams(p);
        next.set("run", r.execution_id);
        return next;
      });
      setTab("run");
    } catch (err) {
      if (showProblems(err)) setBuildOpen(false);
      else setBuildError(err instanceof Error ? err.message : String(err));
    } finally {
      setBuilding(false);
    }
  };

  const closeRun = () => {
    setParams((p) => {
      const next = new URLSearchParams(p);
      next.delete("run");
      next.delete("step");
      return next;
    });
    setTab("node");
  };

  // The step inspector follows the URL (`?run=…&step=<node id>`), so a reload keeps it open.
  const inspectStep = useCallback(
    (nodeId: string | null) => {
      setParams((p) => {
        const next = new URLSearchParams(p);
        if (nodeId) next.set("step", nodeId);
        else next.delete("step");
        return next;
      });
    },
    [setParams],
  );

  // The inspector covers the lower half of the canvas: bring the inspected node above it.
  useEffect(() => {
    if (!runId || !stepId) return;
    const n = flow.getNode(stepId);
    const rect = canvasRef.current?.getBoundingClientRect();
    if (!n || !rect) return;
    const top = flow.flowToScreenPosition({ x: n.position.x, y: n.position.y });
    const height = (n.measured?.height ?? 80) * flow.getZoom();
    const visibleBottom = rect.top + rect.height * 0.5;
    if (top.y >= rect.top && top.y + height <= visibleBottom) return;
    const zoom = flow.getZoom();
    void flow.setCenter(n.position.x + NODE_WIDTH / 2, n.position.y + height / zoom / 2 + (rect.height * 0.25) / zoom, {
      zoom,
      duration: 250,
    });
  }, [runId, stepId, flow]);

  const openRun = useCallback(
    (executionId: string, how?: "retry" | "rerun") => {
      setParams((p) => {
        const next = new URLSearchParams(p);
        next.set("run", executionId);
        return next;
      });
      setTab("run");
      if (how === "retry") setNotice({ tone: "ok", text: "Retrying from the failed step: this is the new run." });
      if (how === "rerun") setNotice({ tone: "ok", text: "Re-run started: this is the new run." });
      void qc.invalidateQueries({ queryKey: keys.project(workflow.project_id) });
    },
    [setParams, qc, workflow.project_id],
  );

  const workflowVersion = qc.getQueryData<Workflow>(keys.workflow(workflow.id))?.version ?? workflow.version;

  return (
    <div className="builder">
      <header className="builder-toolbar">
        <div className="builder-title">
          <nav className="breadcrumbs" aria-label="Breadcrumbs">
            <Link to="/projects">Projects</Link> /{" "}
            <Link to={`/projects/${workflow.project_id}`}>{project.data?.name ?? "project"}</Link> /
          </nav>
          <h1>{workflow.name}</h1>
          <span className="muted small">{workflowVersion ? `active v${workflowVersion}` : "not built yet"}</span>
          {dirty ? (
            <span className="pill pill-warn" aria-live="polite">
              Unsaved changes
            </span>
          ) : (
            <span className="pill" aria-live="polite">
              Saved
            </span>
          )}
        </div>
        <div className="toolbar-actions">
          <WorkerIndicator workers={project.data?.workers} projectId={workflow.project_id} />
          <button type="button" className="btn btn-small" onClick={() => setHistory(undo)} disabled={!canUndo(history)} aria-keyshortcuts="Control+Z">
            Undo
          </button>
          <button type="button" className="btn btn-small" onClick={() => setHistory(redo)} disabled={!canRedo(history)} aria-keyshortcuts="Control+Shift+Z">
            Redo
          </button>
          <Link className="btn btn-small" to={`/workflows/${workflow.id}/runs`}>
            Runs
          </Link>
          <Link className="btn btn-small" to={`/workflows/${workflow.id}/versions`}>
            Versions
          </Link>
          <button type="button" className="btn btn-small" onClick={() => setTriggersOpen(true)} aria-haspopup="dialog">
            Triggers
          </button>
          <button type="button" className="btn btn-small" onClick={() => void check()} disabled={checking}>
            {checking ? "Checking…" : "Check"}
          </button>
          <button type="button" className="btn btn-small" onClick={() => void doSave()} disabled={save.isPending}>
            {save.isPending ? "Saving…" : "Save"}
          </button>
          <button
            type="button"
            className="btn btn-small btn-primary"
            onClick={() => {
              setBuildError(null);
              setBuildOpen(true);
            }}
          >
            Build
          </button>
        </div>
      </header>
      {notice && (
        <div className={`notice-bar ${notice.tone === "error" ? "notice-error" : "notice-ok"}`} role={notice.tone === "error" ? "alert" : "status"}>
          {notice.text}
          <button type="button" className="icon-btn" aria-label="Dismiss message" onClick={() => setNotice(null)}>
            ×
          </button>
        </div>
      )}
      <div className="builder-body">
        <aside className="palette" aria-label="Node palette">
          <h2 className="panel-title">Add a step</h2>
          <ul>
            {PALETTE_ORDER.map((type) => {
              const spec = NODE_TYPES[type];
              return (
                <li key={type}>
                  <button
                    type="button"
                    className="palette-item"
                    draggable
                    onDragStart={(e) => {
                      e.dataTransfer.setData(DND_TYPE, type);
                      e.dataTransfer.effectAllowed = "move";
                    }}
                    onClick={() => addNode(type)}
                    title={spec.description}
                    aria-label={`Add ${spec.label}`}
                  >
                    <span className="palette-icon" aria-hidden>
                      {spec.icon}
                    </span>
                    {spec.label}
                  </button>
                </li>
              );
            })}
          </ul>
          <p className="muted small">Click to add, or drag onto the canvas.</p>
        </aside>
        <div
          className="canvas"
          ref={canvasRef}
          onDragOver={(e) => {
            e.preventDefault();
            e.dataTransfer.dropEffect = "move";
          }}
          onDrop={onDrop}
          aria-label="Workflow canvas"
          role="region"
        >
          <ReactFlow<StepNode, StepEdge>
            nodes={display.nodes}
            edges={display.edges}
            nodeTypes={nodeTypes}
            onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange}
            onConnect={onConnect}
            onNodeClick={(_event, n) => {
              // While a run is shown, a click on a node opens what that step did.
              if (runId && tab === "run") inspectStep(n.id);
            }}
            isValidConnection={(c) => canConnect(doc.edges, doc.nodes, c)}
            deleteKeyCode={["Delete", "Backspace"]}
            fitView
            fitViewOptions={{ padding: 0.3, maxZoom: 1 }}
            defaultEdgeOptions={{ type: "smoothstep" }}
            proOptions={{ hideAttribution: true }}
          >
            <Background gap={18} />
            <Controls position="bottom-right" showInteractive={false} fitViewOptions={{ padding: 0.3, maxZoom: 1 }} />
          </ReactFlow>
          {runId && stepId && tab === "run" && run.execution && (
            <StepInspector
              key={`${run.execution.id}:${stepId}`}
              execution={run.execution}
              nodeId={stepId}
              nodeKind={doc.nodes.find((n) => n.id === stepId)?.data.kind ?? null}
              onClose={() => inspectStep(null)}
            />
          )}
          {doc.nodes.length === 0 && (
            <div className="canvas-empty">
              <p>The canvas is empty. Add a <strong>Start</strong> node from the palette to begin.</p>
            </div>
          )}
          {problems.length > 0 && (
            <section className="problems" aria-label="Problems">
              <h2>
                {problems.length} problem{problems.length > 1 ? "s" : ""}
              </h2>
              <ul>
                {problems.map((p, i) => (
                  <li key={i}>
                    {p.node_id ? (
                      <button
                        type="button"
                        className="link-btn mono"
                        onClick={() => {
                          setHistory((h) =>
                            replace(h, {
                              nodes: h.present.nodes.map((n) => ({ ...n, selected: n.id === p.node_id })),
                              edges: h.present.edges.map((e) => ({ ...e, selected: false })),
                            }),
                          );
                          const n = doc.nodes.find((x) => x.id === p.node_id);
                          if (n) void flow.setCenter(n.position.x + 90, n.position.y + 40, { duration: 300 });
                          setTab("node");
                        }}
                      >
                        {p.node_id}
                      </button>
                    ) : typeof p.edge_index === "number" ? (
                      <span className="mono">edge #{p.edge_index + 1}</span>
                    ) : (
                      <span className="mono">workflow</span>
                    )}
                    : {p.message}
                  </li>
                ))}
              </ul>
            </section>
          )}
        </div>
        <aside className="side-panel" aria-label="Side panel">
          {runId && (
            <div className="tabs" role="tablist">
              <button type="button" role="tab" aria-selected={tab === "node"} onClick={() => setTab("node")}>
                Configure
              </button>
              <button type="button" role="tab" aria-selected={tab === "run"} onClick={() => setTab("run")}>
                Run
              </button>
            </div>
          )}
          {runId && tab === "run" ? (
            <RunPanel
              execution={run.execution}
              live={run.live}
              loading={run.isLoading}
              error={run.error}
              nodes={doc.nodes}
              inspected={stepId}
              onInspect={inspectStep}
              onOpenRun={openRun}
              onClose={closeRun}
            />
          ) : (
            <SidePanel
              node={selectedNode}
              edge={selectedEdge}
              nodes={doc.nodes}
              edges={doc.edges}
              workflows={siblings.data ?? []}
              currentWorkflowId={workflow.id}
              onChangeNode={changeNode}
              onRenameNode={renameNode}
              onDeleteNode={deleteNode}
              onDeleteEdge={deleteEdge}
              onConnect={connect}
              onChangeEdgeKind={changeEdgeKind}
            />
          )}
        </aside>
      </div>
      {triggersOpen && (
        <TriggersPanel workflowId={workflow.id} version={workflowVersion ?? null} onClose={() => setTriggersOpen(false)} />
      )}
      {buildOpen && (
        <BuildDialog
          workflowId={workflow.id}
          busy={building}
          error={buildError}
          onClose={() => setBuildOpen(false)}
          onBuild={(input) => void build(input)}
        />
      )}
    </div>
  );
}
