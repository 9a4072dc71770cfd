// The Code tab: the Temporal code the draft compiles to, with the selected node's lines
// highlighted and scrolled to; a click on a node's lines selects that node on the canvas.
import { useEffect, useMemo, useRef, useState } from "react";
import { ApiError } from "../api/client";
import type { Graph } from "../api/types";
import { useDraftCode } from "../api/versionGraphs";
import { activityNodeLines, nodeAtLine, workflowNodeLines, type LineRange } from "../lib/codeLines";

type File = "workflow_code" | "activities_code";

function useDebounced<T>(value: T, ms: number): T {
  const [current, setCurrent] = useState(value);
  useEffect(() => {
    const t = window.setTimeout(() => setCurrent(value), ms);
    return () => window.clearTimeout(t);
  }, [value, ms]);
  return current;
}

export function CodePanel({
  workflowId,
  graph,
  selectedNodeId,
  onSelectNode,
}: {
  workflowId: string;
  graph: Graph;
  selectedNodeId: string | null;
  onSelectNode: (nodeId: string) => void;
}) {
  // Compiled again once the draft has been still for a moment (keyed by its text, so that a
  // re-render with an equal graph changes nothing).
  const draft = useDebounced(JSON.stringify(graph), 400);
  const code = useDraftCode(workflowId, draft, true);
  const [file, setFile] = useState<File>("workflow_code");
  const text = code.data?.[file] ?? "";
  const lines = useMemo(() => text.split("\n").slice(0, text.endsWith("\n") ? -1 : undefined), [text]);
  const ranges = useMemo(() => (file === "workflow_code" ? workflowNodeLines(text) : activityNodeLines(text)), [file, text]);
  const selected: LineRange | undefined = selectedNodeId !== null ? ranges.get(selectedNodeId) : undefined;
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!selected || !box.current) return;
    const line = box.current.querySelector<HTMLElement>(`[data-line="${selected.start}"]`);
    // The box is the lines' offset parent (position: relative): a few lines of context above.
    if (line) box.current.scrollTop = Math.max(0, line.offsetTop - 3 * line.offsetHeight);
  }, [selected?.start, selected?.end, file]); // eslint-disable-line react-hooks/exhaustive-deps

  const problems = code.error instanceof ApiError ? code.error.problems : [];
  return (
    <section className="code-panel" aria-label="Generated code">
      <div className="code-toolbar">
        <div className="tabs" role="tablist" aria-label="Generated file">
          <button type="button" role="tab" aria-selected={file === "workflow_code"} onClick={() => setFile("workflow_code")}>
            workflow.py
          </button>
          <button type="button" role="tab" aria-selected={file === "activities_code"} onClick={() => setFile("activities_code")}>
            activities.py
          </button>
        </div>
        {code.isFetching && <span className="muted small">Compiling…</span>}
      </div>
      <p className="muted small">
        {selectedNodeId === null
          ? "The Temporal code of the draft (nothing is saved). Select a node to find its code; click a node's code to select it."
          : selected
            ? `Lines ${selected.start}–${selected.end}: node ${selectedNodeId}.`
            : `Node ${selectedNodeId} has no code in ${file === "workflow_code" ? "workflow.py" : "activities.py"}.`}
      </p>
      {code.isError && (
        <p className="text-error" role="alert">
          {problems.length > 0
            ? `The draft does not compile: ${problems.length} problem${problems.length === 1 ? "" : "s"} (see Problems).`
            : `Could not compile the draft: ${code.error.message}`}
        </p>
      )}
      {code.isLoading && <p className="muted">Compiling the draft…</p>}
      {code.data && (
        <div className="code-block code-lines" ref={box} aria-label={file === "workflow_code" ? "workflow.py" : "activities.py"}>
          {lines.map((line, i) => {
            const no = i + 1;
            const node = nodeAtLine(ranges, no);
            const mine = selected !== undefined && no >= selected.start && no <= selected.end;
            const first = node !== null && ranges.get(node)?.start === no;
            return (
              <div
                key={no}
                data-line={no}
                data-node={node ?? undefined}
                className={`code-line${mine ? " code-line-node" : ""}`}
                onClick={node !== null ? () => onSelectNode(node) : undefined}
                // The first line of each node's code is reachable by keyboard.
                role={first ? "button" : undefined}
                tabIndex={first ? 0 : undefined}
                aria-label={first ? `Select node ${node}` : undefined}
                aria-current={first && mine ? "true" : undefined}
                onKeyDown={
                  first
                    ? (e) => {
                        if (e.key === "Enter" || e.key === " ") {
                          e.preventDefault();
                          onSelectNode(node);
                        }
                      }
                    : undefined
                }
              >
                <span className="code-line-no" aria-hidden>
                  {no}
                </span>
                <span className="code-line-text">{line || " "}</span>
              </div>
            );
          })}
        </div>
      )}
    </section>
  );
}
