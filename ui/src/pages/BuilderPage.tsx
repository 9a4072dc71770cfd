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
import { AddStepMenu } from "../builder/AddStepMenu";
import { BuildDialog } from "../builder/BuildDialog";
import { CanvasActionsContext, type CanvasActions } from "../builder/canvasContext";
import { edgeTypes } from "../builder/InsertableEdge";
import { ProblemsDock } from "../builder/ProblemsDock";
import { ShortcutsHelp } from "../builder/ShortcutsHelp";
import { useUnsavedGuard } from "../builder/UnsavedGuard";
import { RunPanel } from "../builder/RunPanel";
import { StepInspector } from "../builder/StepInspector";
import { SidePanel } from "../builder/SidePanel";
import { CodePanel } from "../builder/CodePanel";
import { TriggersPanel } from "../builder/TriggersPanel";
import { nodeTypes } from "../builder/StepNodeView";
import { ErrorState, Loading } from "../components/ui";
import { WorkerIndicator } from "../components/workers";
import { addAfter, addNodeWhere, insertBetween, layoutDoc, makeEdge, typesAfter, typesBetween } from "../lib/canvasOps";
import { clearDraft, draftToRestore, storeDraft } from "../lib/drafts";
import {
  applyProblems,
  canConnect,
  edgeKindProps,
  flowToGraph,
  graphToFlow,
  NODE_WIDTH,
  type StepData,
  type StepEdge,
  type StepNode,
} from "../lib/graph";
import { canRedo, canUndo, createHistory, push, redo, replace, seal, undo, type History } from "../lib/history";
import { NODE_TYPES, PALETTE_ORDER } from "../lib/nodeTypes";
import { humanizeAll } from "../lib/problems";
import { runEdges, withRunClass } from "../lib/runPath";
import { isTerminal } from "../lib/status";
import { PanelLeftClose, PanelLeftOpen, PanelRightClose, PanelRightOpen } from "lucide-react";
import { NodeIcon } from "../components/icons";
import { useCollapsible } from "../lib/collapsible";
import { useToast } from "../components/toast";

interface Doc {
  nodes: StepNode[];
  edges: StepEdge[];
}

const DND_TYPE = "application/x-runloom-node";
/** Fit view never zooms out below readable text (node text ≥ 11 px): a large graph scrolls instead. */
const FIT_VIEW = { padding: 0.2, maxZoom: 1, minZoom: 0.92 };

interface StepMenu {
  anchor: HTMLElement;
  title: string;
  types: NodeType[];
  pick: (type: NodeType) => void;
}

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

  // A draft kept in this browser (autosave) comes back over the saved graph, one undo away from it.
  const [restored] = useState(() => draftToRestore(workflow.id, graphKey(graphToFlow(workflow.graph))));
  const [history, setHistory] = useState<History<Doc>>(() => {
    const saved = createHistory(graphToFlow(workflow.graph));
    return restored ? push(saved, graphToFlow(restored.graph)) : saved;
  });
  const [savedKey, setSavedKey] = useState(() => graphKey(graphToFlow(workflow.graph)));
  const [problems, setProblems] = useState<Problem[]>([]);
  const toast = useToast();
  const [paletteCollapsed, togglePalette] = useCollapsible("runloom.palette", "(max-width: 1199px)");
  const [panelCollapsed, togglePanel] = useCollapsible("runloom.sidePanel", null);
  // One message at a time from the builder (saved, checked, built, failed), as a toast.
  const setNotice = useCallback(
    (notice: { tone: "ok" | "error"; text: string; sticky?: boolean } | null) => {
      if (notice) toast.show({ ...notice, key: "builder" });
      else toast.dismiss("builder");
    },
    [toast],
  );
  // The builder's messages are about this workflow: they go when the user leaves it.
  useEffect(() => () => toast.dismiss("builder"), [toast]);
  useEffect(() => {
    if (!restored) return;
    setNotice({
      tone: "ok",
      sticky: true,
      text: `Restored your unsaved draft from ${new Date(restored.savedAt).toLocaleString()} (kept in this browser). Save it, or Undo to go back to the saved version.`,
    });
  }, [restored, setNotice]);
  const [draftAt, setDraftAt] = useState<number | null>(restored?.savedAt ?? null);
  const [menu, setMenu] = useState<StepMenu | null>(null);
  const [problemsOpen, setProblemsOpen] = useState(true);
  const discarded = useRef(false);
  const reveal = useRef(false);
  const [building, setBuilding] = useState(false);
  const [buildOpen, setBuildOpen] = useState(false);
  const [triggersOpen, setTriggersOpen] = useState(false);
  const [buildError, setBuildError] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);
  const [tab, setTab] = useState<"node" | "run" | "code">(runId ? "run" : "node");
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
  const human = useMemo(() => humanizeAll(problems, doc.nodes), [problems, doc.nodes]);
  const display = useMemo(() => {
    const worded = problems.map((p, i) => ({ ...p, message: human[i]?.text ?? p.message }));
    const withProblems = applyProblems(doc.nodes, doc.edges, worded);
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
    // The path the run took: edges it went along highlighted, branches it did not take dimmed.
    const marks = runId && states ? runEdges(withProblems.edges, states, over) : null;
    const edges = marks
      ? withProblems.edges.map((e) => {
          const className = withRunClass(e.className, marks.get(e.id) ?? null);
          return className === e.className ? e : { ...e, className };
        })
      : withProblems.edges;
    return { nodes, edges };
  }, [doc, problems, human, run.execution, runId, stepId]);
  const runOver = Boolean(runId && tab === "run" && run.execution && isTerminal(run.execution.status));

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
      return push(h, { nodes: h.present.nodes, edges: [...h.present.edges, makeEdge(source, target, handle)] });
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
      // Connected after the selected node when there is one; else in view, searching right
      // and down from the middle of the canvas (never left, under the palette) and off every
      // edge, so that no edge seems to run through it.
      const rect = canvasRef.current?.getBoundingClientRect();
      const center = rect ? flow.screenToFlowPosition({ x: rect.left + rect.width / 2, y: rect.top + rect.height / 4 }) : { x: 0, y: 0 };
      const left = rect ? flow.screenToFlowPosition({ x: rect.left + 24, y: rect.top }).x : 0;
      const around = { x: Math.max(left, center.x - NODE_WIDTH / 2), y: center.y };
      reveal.current = true;
      setHistory((h) => push(h, addNodeWhere(h.present, type, { position, around })));
      setTab("node");
    },
    [flow],
  );

  const canvasActions = useMemo<CanvasActions>(
    () => ({
      addAfter: (nodeId, handle, anchor) =>
        setMenu({
          anchor,
          title: `Add a step after ${nodeId}`,
          types: typesAfter(),
          pick: (type) => setHistory((h) => push(h, addAfter(h.present, type, nodeId, handle))),
        }),
      insertOn: (edgeId, anchor) =>
        setMenu({
          anchor,
          title: "Insert a step on this edge",
          types: typesBetween(),
          pick: (type) => setHistory((h) => push(h, insertBetween(h.present, type, edgeId))),
        }),
    }),
    [],
  );

  const autoLayout = useCallback(() => {
    setHistory((h) => push(h, layoutDoc(h.present)));
    window.setTimeout(() => void flow.fitView({ ...FIT_VIEW, duration: 250 }), 60);
  }, [flow]);

  // A node just added is brought into view (at the current zoom) when it landed outside it.
  useEffect(() => {
    if (!reveal.current) return;
    reveal.current = false;
    const n = doc.nodes.find((x) => x.selected);
    const rect = canvasRef.current?.getBoundingClientRect();
    if (!n || !rect) return;
    const tl = flow.flowToScreenPosition(n.position);
    const br = flow.flowToScreenPosition({ x: n.position.x + NODE_WIDTH, y: n.position.y + 90 });
    if (tl.x >= rect.left && tl.y >= rect.top && br.x <= rect.right && br.y <= rect.bottom) return;
    void flow.setCenter(n.position.x + NODE_WIDTH / 2, n.position.y + 45, { zoom: flow.getZoom(), duration: 250 });
  }, [doc, flow]);

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
      if (isEditable(e.target)) return;
      if (e.shiftKey && !e.ctrlKey && !e.metaKey && !e.altKey && e.key.toLowerCase() === "l") {
        e.preventDefault();
        autoLayoutRef.current();
        return;
      }
      if (!(e.ctrlKey || e.metaKey)) return;
      const k = e.key.toLowerCase();
      if (k === "s") {
        e.preventDefault();
        void saveRef.current();
      } else if (k === "z" && !e.shiftKey) {
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

  const doSave = useCallback(async (): Promise<boolean> => {
    const graph = flowToGraph(doc.nodes, doc.edges);
    try {
      await save.mutateAsync({ name: workflow.name, description: workflow.description, graph });
      setSavedKey(JSON.stringify(graph));
      clearDraft(workflow.id);
      setNotice({ tone: "ok", text: "Saved." });
      return true;
    } catch (err) {
      setNotice({ tone: "error", text: `Could not save: ${err instanceof Error ? err.message : String(err)}` });
      return false;
    }
  }, [doc, save, workflow.id, workflow.name, workflow.description]);
  const saveRef = useRef(doSave);
  saveRef.current = doSave;
  const autoLayoutRef = useRef(autoLayout);
  autoLayoutRef.current = autoLayout;

  // Autosave: the draft is kept in this browser until it is saved (or discarded).
  useEffect(() => {
    if (!dirty) {
      clearDraft(workflow.id);
      setDraftAt(null);
      return undefined;
    }
    const t = window.setTimeout(() => {
      if (!discarded.current && storeDraft(workflow.id, flowToGraph(doc.nodes, doc.edges), savedKey)) setDraftAt(Date.now());
    }, 500);
    return () => window.clearTimeout(t);
  }, [doc, dirty, savedKey, workflow.id]);

  // Links inside the app ask before leaving unsaved changes; closing the tab asks too.
  const guard = useUnsavedGuard({
    dirty,
    save: doSave,
    discard: () => {
      discarded.current = true;
      clearDraft(workflow.id);
    },
  });

  const showProblems = (err: unknown): boolean => {
    if (err instanceof ApiError && err.status === 422 && err.problems.length > 0) {
      setProblems(err.problems);
      setProblemsOpen(true);
      setNotice({ tone: "error", text: `${err.problems.length} problem${err.problems.length > 1 ? "s" : ""} to fix before this workflow can be built.` });
      return true;
    }
    return false;
  };

  const check = async () => {
    setChecking(true);
    setNotice(null);
    try {
      // The draft as it is on the canvas: Check never saves.
      await compileWorkflow(workflow.id, flowToGraph(doc.nodes, doc.edges));
      setProblems([]);
      setNotice({ tone: "ok", text: dirty ? "No problems: the workflow compiles. (Checked the draft: nothing was saved.)" : "No problems: the workflow compiles." });
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
            <>
              <span className="pill pill-warn" aria-live="polite">
                Unsaved changes
              </span>
              {draftAt !== null && (
                <span className="muted small draft-status" role="status" title={`Kept in this browser at ${new Date(draftAt).toLocaleTimeString()} until you save`}>
                  Draft saved locally
                </span>
              )}
            </>
          ) : (
            <span className="pill" aria-live="polite">
              Saved
            </span>
          )}
        </div>
        <div className="toolbar-actions">
          <WorkerIndicator project={project.data} projectId={workflow.project_id} />
          <button type="button" className="btn btn-small" onClick={() => setHistory(undo)} disabled={!canUndo(history)} aria-keyshortcuts="Control+Z">
            Undo
          </button>
          <button type="button" className="btn btn-small" onClick={() => setHistory(redo)} disabled={!canRedo(history)} aria-keyshortcuts="Control+Shift+Z">
            Redo
          </button>
          <button type="button" className="btn btn-small" onClick={autoLayout} aria-keyshortcuts="Shift+L" title="Lay the graph out automatically (Shift+L)">
            Auto-layout
          </button>
          <ShortcutsHelp />
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
      <div className="builder-body">
        <aside className={`palette${paletteCollapsed ? " palette-collapsed" : ""}`} aria-label="Node palette">
          <div className="palette-head">
            <h2 className="panel-title">Add a step</h2>
            <button
              type="button"
              className="icon-btn panel-toggle"
              aria-expanded={!paletteCollapsed}
              aria-label="Palette labels"
              title={paletteCollapsed ? "Expand the palette" : "Collapse the palette"}
              onClick={togglePalette}
            >
              {paletteCollapsed ? <PanelLeftOpen size={16} aria-hidden /> : <PanelLeftClose size={16} aria-hidden />}
            </button>
          </div>
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
                      <NodeIcon type={type} />
                    </span>
                    <span className="palette-label">{spec.label}</span>
                  </button>
                </li>
              );
            })}
          </ul>
          <p className="muted small palette-label">Click to add, or drag onto the canvas.</p>
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
          <CanvasActionsContext.Provider value={canvasActions}>
          <ReactFlow<StepNode, StepEdge>
            className={runOver ? "run-over" : undefined}
            style={{ flex: 1, minHeight: 0, height: "auto" }}
            nodes={display.nodes}
            edges={display.edges}
            nodeTypes={nodeTypes}
            edgeTypes={edgeTypes}
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
            fitViewOptions={FIT_VIEW}
            minZoom={0.3}
            defaultEdgeOptions={{ type: "smoothstep" }}
            proOptions={{ hideAttribution: true }}
          >
            <Background gap={18} />
            <Controls position="bottom-right" showInteractive={false} fitViewOptions={FIT_VIEW} />
          </ReactFlow>
          </CanvasActionsContext.Provider>
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
          {problemsOpen && (
            <ProblemsDock
              problems={human}
              onClose={() => setProblemsOpen(false)}
              onShowNode={(nodeId) => {
                setHistory((h) =>
                  replace(h, {
                    nodes: h.present.nodes.map((n) => ({ ...n, selected: n.id === nodeId })),
                    edges: h.present.edges.map((e) => ({ ...e, selected: false })),
                  }),
                );
                // Centred at the current zoom: the view moves, its scale does not.
                const n = flow.getNode(nodeId);
                if (n) {
                  const w = n.measured?.width ?? NODE_WIDTH;
                  const hgt = n.measured?.height ?? 90;
                  void flow.setCenter(n.position.x + w / 2, n.position.y + hgt / 2, { zoom: flow.getZoom(), duration: 300 });
                }
                setTab("node");
              }}
            />
          )}
        </div>
        <aside className={`side-panel${panelCollapsed ? " side-panel-collapsed" : ""}`} aria-label="Side panel">
          <div className="side-panel-head">
          <button
            type="button"
            className="icon-btn panel-toggle"
            aria-expanded={!panelCollapsed}
            aria-controls="side-panel-body"
            aria-label="Show side panel"
            title={panelCollapsed ? "Show the side panel" : "Hide the side panel"}
            onClick={togglePanel}
          >
            {panelCollapsed ? <PanelRightOpen size={16} aria-hidden /> : <PanelRightClose size={16} aria-hidden />}
          </button>
          <div className="tabs" role="tablist" aria-label="Side panel" hidden={panelCollapsed}>
            <button type="button" role="tab" aria-selected={tab === "node"} onClick={() => setTab("node")}>
              Configure
            </button>
            <button type="button" role="tab" aria-selected={tab === "code"} onClick={() => setTab("code")}>
              Code
            </button>
            {runId && (
              <button type="button" role="tab" aria-selected={tab === "run"} onClick={() => setTab("run")}>
                Run
              </button>
            )}
          </div>
          </div>
          <div id="side-panel-body" className="side-panel-body" hidden={panelCollapsed}>
          {tab === "code" ? (
            <CodePanel
              workflowId={workflow.id}
              graph={flowToGraph(doc.nodes, doc.edges)}
              selectedNodeId={selectedNode?.id ?? null}
              onSelectNode={(nodeId) => {
                setHistory((h) =>
                  replace(h, {
                    nodes: h.present.nodes.map((n) => ({ ...n, selected: n.id === nodeId })),
                    edges: h.present.edges.map((e) => ({ ...e, selected: false })),
                  }),
                );
                const n = flow.getNode(nodeId);
                if (n) void flow.setCenter(n.position.x + NODE_WIDTH / 2, n.position.y + 45, { zoom: flow.getZoom(), duration: 300 });
              }}
            />
          ) : runId && tab === "run" ? (
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
              problems={human}
            />
          )}
          </div>
        </aside>
      </div>
      {triggersOpen && (
        <TriggersPanel workflowId={workflow.id} version={workflowVersion ?? null} onClose={() => setTriggersOpen(false)} />
      )}
      {menu && (
        <AddStepMenu
          title={menu.title}
          anchor={menu.anchor}
          types={menu.types}
          onClose={() => setMenu(null)}
          onPick={(type) => {
            reveal.current = true;
            menu.pick(type);
            setMenu(null);
            setTab("node");
          }}
        />
      )}
      {guard.dialog}
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
