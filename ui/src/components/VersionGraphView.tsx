// A version's graph on a read-only canvas, or the difference between two versions' graphs:
// in words (nodes and fields added, removed, changed) and marked on both canvases.
import { useMemo } from "react";
import { useVersionGraph } from "../api/versionGraphs";
import type { Graph } from "../api/types";
import { diffGraphs, diffSentence, shortValue, type GraphDiff } from "../lib/graphDiff";
import { GraphPreview } from "./GraphPreview";
import { ErrorState, Loading } from "./ui";

const NO_GRAPH = "This version was built before runloom kept each version's graph: only its code is shown.";

export function VersionGraphView({ workflowId, version, compareTo }: { workflowId: string; version: number; compareTo: number | null }) {
  const current = useVersionGraph(workflowId, version);
  const other = useVersionGraph(workflowId, compareTo);
  if (current.isLoading || (compareTo !== null && other.isLoading)) return <Loading what="graph" />;
  if (current.isError) return <ErrorState error={current.error} retry={() => void current.refetch()} />;
  if (other.isError) return <ErrorState error={other.error} retry={() => void other.refetch()} />;
  const graph = current.data?.graph ?? null;
  if (!graph) return <p className="muted">{NO_GRAPH}</p>;
  if (compareTo === null) return <GraphPreview graph={graph} label={`Graph of v${version}`} />;
  const before = other.data?.graph ?? null;
  if (!before) return <p className="muted">v{compareTo}: {NO_GRAPH}</p>;
  return <GraphDiffView before={before} after={graph} from={compareTo} to={version} />;
}

function GraphDiffView({ before, after, from, to }: { before: Graph; after: Graph; from: number; to: number }) {
  const diff = useMemo(() => diffGraphs(before, after), [before, after]);
  const removed = useMemo(() => Object.fromEntries(diff.nodes.filter((n) => n.kind === "removed").map((n) => [n.id, n.kind])), [diff]);
  return (
    <div className="graph-diff" aria-label={`Graph difference between v${from} and v${to}`}>
      <p className="small">
        v{from} → v{to}: {diffSentence(diff)}
      </p>
      <DiffWords diff={diff} />
      <div className="graph-diff-canvases">
        <figure>
          <figcaption className="small muted">v{from}</figcaption>
          <GraphPreview graph={before} label={`Graph of v${from}, removed nodes marked`} marks={removed} />
        </figure>
        <figure>
          <figcaption className="small muted">v{to}</figcaption>
          <GraphPreview graph={after} label={`Graph of v${to}, added and changed nodes marked`} marks={diff.status} />
        </figure>
      </div>
    </div>
  );
}

function DiffWords({ diff }: { diff: GraphDiff }) {
  if (diff.nodes.length === 0 && diff.edges.length === 0) return null;
  return (
    <ul className="graph-diff-list" aria-label="Changes">
      {diff.nodes.map((n) => (
        <li key={n.id} className={`graph-diff-${n.kind}`}>
          <strong>{n.id}</strong> ({n.type}) {n.kind}
          {n.fields.length > 0 && (
            <ul>
              {n.fields.map((f) => (
                <li key={f.path}>
                  <code>{f.path}</code>{" "}
                  {f.kind === "changed"
                    ? `changed from ${shortValue(f.before)} to ${shortValue(f.after)}`
                    : f.kind === "added"
                      ? `added: ${shortValue(f.after)}`
                      : `removed (was ${shortValue(f.before)})`}
                </li>
              ))}
            </ul>
          )}
        </li>
      ))}
      {diff.edges.map((e) => (
        <li key={`${e.kind}:${e.label}`} className={`graph-diff-${e.kind}`}>
          edge {e.label} {e.kind}
        </li>
      ))}
    </ul>
  );
}
