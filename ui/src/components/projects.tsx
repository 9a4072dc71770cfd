import type { ReactNode } from "react";
import { Link } from "react-router-dom";
import type { Project, Workflow } from "../api/types";
import { formatDuration, formatNumber, formatRelative } from "../lib/format";

/** The execution figures a project card and a project page both show. */
export function ProjectFigures({ project, lead }: { project: Project; lead?: ReactNode }) {
  return (
    <dl className="stats-row">
      {lead}
      <div>
        <dt>Executions</dt>
        <dd>{formatNumber(project.total_workflow_executions ?? 0)}</dd>
      </div>
      <div>
        <dt>Avg duration</dt>
        <dd>
          {project.total_workflow_executions ? formatDuration(project.avg_execution_duration_ms) : "—"}
        </dd>
      </div>
      <div>
        <dt>Last run</dt>
        <dd>{formatRelative(project.last_execution_at)}</dd>
      </div>
    </dl>
  );
}

/** Workflows with their active version; `extra` adds one column (its header and cells). */
export function WorkflowTable({
  workflows,
  extra,
}: {
  workflows: Workflow[];
  extra: { header: string; cell: (w: Workflow) => ReactNode };
}) {
  return (
    <div className="table-scroll">
      <table className="table" aria-label="Workflows">
        <thead>
          <tr>
            <th>Name</th>
            <th>{extra.header}</th>
            <th>Active version</th>
            <th>Updated</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {workflows.map((w) => (
            <tr key={w.id}>
              <td>
                <Link to={`/workflows/${w.id}`}>{w.name}</Link>
              </td>
              <td>{extra.cell(w)}</td>
              <td>{w.version ? `v${w.version}` : <span className="muted">not built</span>}</td>
              <td>{formatRelative(w.updated_at)}</td>
              <td className="row-actions">
                <Link to={`/workflows/${w.id}/runs`}>Runs</Link>
                <Link to={`/workflows/${w.id}/versions`}>Versions</Link>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
