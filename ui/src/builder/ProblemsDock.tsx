// The compile problems, docked under the canvas (never over it), in a person's words; a
// problem's node button selects that node and brings it into view at the current zoom.
import type { HumanProblem } from "../lib/problems";
import { TriangleAlert } from "lucide-react";
import { CloseIcon } from "../components/icons";

export function ProblemsDock({ problems, onShowNode, onClose }: { problems: HumanProblem[]; onShowNode: (nodeId: string) => void; onClose: () => void }) {
  if (problems.length === 0) return null;
  const errors = problems.filter((p) => p.severity !== "warning").length;
  const title = `${problems.length} problem${problems.length > 1 ? "s" : ""}`;
  return (
    <section className="problems-dock" aria-label="Problems">
      <header className="problems-head">
        <h2>
          <span aria-hidden className="problems-mark">
            <TriangleAlert size={15} />
          </span>{" "}
          {title}
          {errors < problems.length && <span className="muted small"> ({problems.length - errors} warning{problems.length - errors > 1 ? "s" : ""})</span>}
        </h2>
        <button type="button" className="icon-btn" aria-label="Hide problems" onClick={onClose}>
          <CloseIcon />
        </button>
      </header>
      <ul>
        {problems.map((p, i) => (
          <li key={i} data-severity={p.severity}>
            {p.nodeId ? (
              <button type="button" className="link-btn mono" onClick={() => onShowNode(p.nodeId as string)} title={`Show ${p.nodeId} on the canvas`}>
                {p.nodeId}
              </button>
            ) : p.edgeIndex !== null ? (
              <span className="mono">edge #{p.edgeIndex + 1}</span>
            ) : (
              <span className="mono">workflow</span>
            )}
            {p.fieldLabel && <span className="muted"> · {p.fieldLabel}</span>}: <span className="problem-text">{p.text}</span>
            {p.original !== p.text && (
              <details className="problem-original">
                <summary>Compiler’s words</summary>
                <code>{p.original}</code>
              </details>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
