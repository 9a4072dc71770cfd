import { Link, useParams, useSearchParams } from "react-router-dom";
import { useExecutions, useWorkflow, useWorkflows } from "../api/hooks";
import { Empty, ErrorState, Loading, PageHeader, StatusBadge } from "../components/ui";
import { formatDate, formatDuration } from "../lib/format";
import { EXECUTION_STATUSES, executionTone, statusLabel } from "../lib/status";

/** Past runs of one workflow (`/workflows/:id/runs`) or of every workflow (`/runs`), filterable by status. */
export function RunsPage() {
  const { workflowId } = useParams();
  const [params, setParams] = useSearchParams();
  const status = params.get("status") ?? "";
  const workflow = useWorkflow(workflowId);
  const workflows = useWorkflows();
  const executions = useExecutions({ workflow_id: workflowId, status: status || undefined });
  const name = (id: string) => workflows.data?.find((w) => w.id === id)?.name ?? "workflow";
  return (
    <div className="page">
      {workflow.data && (
        <nav className="breadcrumbs" aria-label="Breadcrumbs">
          <Link to={`/projects/${workflow.data.project_id}`}>Project</Link> /{" "}
          <Link to={`/workflows/${workflow.data.id}`}>{workflow.data.name}</Link> / <span>Runs</span>
        </nav>
      )}
      <PageHeader
        title={workflow.data ? `Runs of ${workflow.data.name}` : "Runs"}
        actions={
          workflow.data && (
            <Link className="btn" to={`/workflows/${workflow.data.id}`}>
              Open builder
            </Link>
          )
        }
      />
      <div className="filters" role="group" aria-label="Filter by status">
        {["", ...EXECUTION_STATUSES].map((s) => (
          <button
            key={s || "all"}
            type="button"
            className={`chip${status === s ? " chip-active" : ""}`}
            aria-pressed={status === s}
            onClick={() => {
              const next = new URLSearchParams(params);
              if (s) next.set("status", s);
              else next.delete("status");
              setParams(next);
            }}
          >
            {s ? statusLabel(s) : "all"}
          </button>
        ))}
      </div>
      {executions.isLoading && <Loading what="runs" />}
      {executions.isError && <ErrorState error={executions.error} retry={() => void executions.refetch()} />}
      {executions.data && executions.data.length === 0 && (
        <Empty title={status ? `No ${statusLabel(status)} runs` : "No runs yet"}>
          <p>{workflowId ? "Open the builder and press Build to start a run." : "Build a workflow to start a run."}</p>
        </Empty>
      )}
      {executions.data && executions.data.length > 0 && (
        <table className="table" aria-label="Runs">
          <thead>
            <tr>
              <th>Status</th>
              {!workflowId && <th>Workflow</th>}
              <th>Version</th>
              <th>Started</th>
              <th>Duration</th>
              <th>Run</th>
            </tr>
          </thead>
          <tbody>
            {executions.data.map((e) => (
              <tr key={e.id}>
                <td>
                  <StatusBadge tone={executionTone(e.status)}>{statusLabel(e.status)}</StatusBadge>
                </td>
                {!workflowId && <td>{name(e.workflow_id)}</td>}
                <td>{e.code_version ? `v${e.code_version}` : "—"}</td>
                <td>{formatDate(e.started_at)}</td>
                <td>{formatDuration(e.duration_ms)}</td>
                <td className="row-actions">
                  <Link to={`/workflows/${e.workflow_id}?run=${e.id}`} aria-label={`Open run ${e.id}`}>
                    Open
                  </Link>
                  {e.temporal_ui_url && (
                    <a href={e.temporal_ui_url} target="_blank" rel="noreferrer">
                      Temporal ↗
                    </a>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
