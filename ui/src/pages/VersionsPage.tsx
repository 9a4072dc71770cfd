import { useEffect, useMemo, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { ProjectCrumb } from "../components/ProjectCrumb";
import { rawRequest } from "../api/client";
import { useVersions, useWorkflow } from "../api/hooks";
import type { Version } from "../api/types";
import { useRollback } from "../api/versionGraphs";
import { Empty, ErrorState, Loading, Modal, PageHeader } from "../components/ui";
import { VersionGraphView } from "../components/VersionGraphView";
import { diffSummary, diffVersionedCode } from "../lib/diff";
import { formatDate, formatNumber } from "../lib/format";
import { useToast } from "../components/toast";

type CodePart = "workflow_code" | "activities_code";
type View = "graph" | CodePart;

export function VersionsPage() {
  const { workflowId } = useParams();
  const workflow = useWorkflow(workflowId);
  const versions = useVersions(workflowId);
  const activate = useRollback(workflowId ?? "");
  const [selected, setSelected] = useState<number | null>(null);
  const [compareTo, setCompareTo] = useState<number | null>(null);
  const [part, setPart] = useState<View>("graph");
  const [confirming, setConfirming] = useState<number | null>(null);
  const toast = useToast();
  const [exportError, setExportError] = useState<string | null>(null);

  const list = useMemo(() => [...(versions.data ?? [])].sort((a, b) => b.version - a.version), [versions.data]);
  useEffect(() => {
    if (selected === null && list[0]) setSelected(list[0].version);
  }, [list, selected]);
  const current = list.find((v) => v.version === selected) ?? null;
  const other = list.find((v) => v.version === compareTo) ?? null;

  const exportZip = async () => {
    setExportError(null);
    try {
      const r = await rawRequest(`/api/workflows/${workflowId}/export`);
      const blob = await r.blob();
      const url = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = `${workflow.data?.key ?? "workflow"}.zip`;
      a.click();
      URL.revokeObjectURL(url);
    } catch (err) {
      setExportError(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <div className="page">
      {workflow.data && (
        <nav className="breadcrumbs" aria-label="Breadcrumbs">
          <ProjectCrumb projectId={workflow.data.project_id} /> /{" "}
          <Link to={`/workflows/${workflow.data.id}`}>{workflow.data.name}</Link> / <span>Versions</span>
        </nav>
      )}
      <PageHeader
        title={workflow.data ? `Versions of ${workflow.data.name}` : "Versions"}
        actions={
          <>
            <button type="button" className="btn" onClick={() => void exportZip()} disabled={list.length === 0}>
              Export as zip
            </button>
            {workflow.data && (
              <Link className="btn" to={`/workflows/${workflow.data.id}`}>
                Open builder
              </Link>
            )}
          </>
        }
      />
      {exportError && (
        <p className="text-error" role="alert">
          {exportError}
        </p>
      )}
      {activate.isError && (
        <p className="text-error" role="alert">
          Rollback failed: {activate.error.message}
        </p>
      )}
      {confirming !== null && (
        <Modal title={`Roll back to v${confirming}?`} onClose={() => setConfirming(null)}>
          <p>
            New runs will use v{confirming}, and the workflow&apos;s graph in the editor becomes the graph v{confirming} was built
            from. Changes in the editor that were not built are replaced.
          </p>
          <div className="modal-actions">
            <button type="button" className="btn" onClick={() => setConfirming(null)}>
              Cancel
            </button>
            <button
              type="button"
              className="btn btn-primary"
              disabled={activate.isPending}
              onClick={() => {
                const version = confirming;
                activate.mutate(version, {
                  onSuccess: () => {
                    toast.show({
                      tone: "ok",
                      key: "rollback",
                      sticky: true,
                      text: (
                        <>
                          v{version} is active, and its graph is back in the editor.{" "}
                          <Link to={`/workflows/${workflowId ?? ""}`} onClick={() => toast.dismiss("rollback")}>
                            Open it in the builder
                          </Link>
                        </>
                      ),
                    });
                    setConfirming(null);
                  },
                });
              }}
            >
              {activate.isPending ? "Rolling back…" : `Roll back to v${confirming}`}
            </button>
          </div>
        </Modal>
      )}
      {versions.isLoading && <Loading what="versions" />}
      {versions.isError && <ErrorState error={versions.error} retry={() => void versions.refetch()} />}
      {versions.data && list.length === 0 && (
        <Empty title="No versions yet">
          <p>Each Build compiles the graph into a new version. Open the builder and press Build.</p>
        </Empty>
      )}
      {list.length > 0 && (
        <div className="versions-layout">
          <div className="table-scroll">
            <table className="table" aria-label="Versions">
              <thead>
                <tr>
                  <th>Version</th>
                  <th>Compiled</th>
                  <th className="num">Runs</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {list.map((v) => (
                  <tr key={v.version} className={v.version === selected ? "row-selected" : undefined}>
                    <td>
                      <button type="button" className="link-btn" onClick={() => setSelected(v.version)} aria-pressed={v.version === selected}>
                        v{v.version}
                      </button>{" "}
                      {v.is_active && <span className="pill pill-ok">active</span>}
                    </td>
                    <td>{formatDate(v.compiled_at)}</td>
                    <td className="num">{formatNumber(v.execution_count ?? 0)}</td>
                    <td>
                      {!v.is_active && (
                        <button
                          type="button"
                          className="btn btn-small"
                          disabled={activate.isPending}
                          onClick={() => setConfirming(v.version)}
                        >
                          Roll back to v{v.version}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {current && (
            <section className="card code-card" aria-label={`v${current.version}`}>
              <div className="code-toolbar">
                <div className="tabs" role="tablist" aria-label="What to show">
                  <button type="button" role="tab" aria-selected={part === "graph"} onClick={() => setPart("graph")}>
                    Graph
                  </button>
                  <button type="button" role="tab" aria-selected={part === "workflow_code"} onClick={() => setPart("workflow_code")}>
                    workflow.py
                  </button>
                  <button type="button" role="tab" aria-selected={part === "activities_code"} onClick={() => setPart("activities_code")}>
                    activities.py
                  </button>
                </div>
                <label className="inline small">
                  Compare with
                  <select
                    aria-label="Compare with version"
                    value={compareTo ?? ""}
                    onChange={(e) => setCompareTo(e.target.value ? Number(e.target.value) : null)}
                  >
                    <option value="">(no comparison)</option>
                    {list
                      .filter((v) => v.version !== current.version)
                      .map((v) => (
                        <option key={v.version} value={v.version}>
                          v{v.version}
                        </option>
                      ))}
                  </select>
                </label>
              </div>
              {part === "graph" ? (
                <VersionGraphView workflowId={workflowId ?? ""} version={current.version} compareTo={other?.version ?? null} />
              ) : other ? (
                <DiffView from={other} to={current} part={part} />
              ) : (
                <pre className="code-block code-large">{current[part]}</pre>
              )}
            </section>
          )}
        </div>
      )}
    </div>
  );
}

function DiffView({ from, to, part }: { from: Version; to: Version; part: CodePart }) {
  // Lines that differ only in the version's name (`@v2`, `V2Workflow`) are not changes.
  const lines = useMemo(() => diffVersionedCode(from[part] ?? "", to[part] ?? ""), [from, to, part]);
  const { added, removed } = diffSummary(lines);
  return (
    <div aria-label={`Difference between v${from.version} and v${to.version}`}>
      <p className="small">
        v{from.version} → v{to.version}: <span className="diff-add-text">+{added}</span>{" "}
        <span className="diff-del-text">−{removed}</span>
        {added === 0 && removed === 0 && " (identical)"}
      </p>
      <pre className="code-block code-large diff">
        {lines.map((l, i) => (
          <div key={i} className={`diff-line diff-${l.op}`}>
            <span className="diff-no">{l.oldNo ?? ""}</span>
            <span className="diff-no">{l.newNo ?? ""}</span>
            <span className="diff-sign">{l.op === "add" ? "+" : l.op === "del" ? "−" : " "}</span>
            {l.text}
          </div>
        ))}
      </pre>
    </div>
  );
}
