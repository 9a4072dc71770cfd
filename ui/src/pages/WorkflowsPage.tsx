import { Link } from "react-router-dom";
import { useProjects, useWorkflows } from "../api/hooks";
import { Empty, ErrorState, Loading, PageHeader } from "../components/ui";
import { formatRelative } from "../lib/format";

export function WorkflowsPage() {
  const workflows = useWorkflows();
  const projects = useProjects();
  const projectName = (id: string) => projects.data?.find((p) => p.id === id)?.name ?? "…";
  return (
    <div className="page">
      <PageHeader
        title="Workflows"
        actions={
          <Link className="btn btn-primary" to="/workflows/new">
            New workflow
          </Link>
        }
      />
      {workflows.isLoading && <Loading what="workflows" />}
      {workflows.isError && <ErrorState error={workflows.error} retry={() => void workflows.refetch()} />}
      {workflows.data && workflows.data.length === 0 && (
        <Empty title="No workflows yet">
          <p>Create a workflow in one of your projects.</p>
          <Link className="btn btn-primary" to="/workflows/new">
            Create workflow
          </Link>
        </Empty>
      )}
      {workflows.data && workflows.data.length > 0 && (
        <table className="table" aria-label="Workflows">
          <thead>
            <tr>
              <th>Name</th>
              <th>Project</th>
              <th>Active version</th>
              <th>Updated</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {workflows.data.map((w) => (
              <tr key={w.id}>
                <td>
                  <Link to={`/workflows/${w.id}`}>{w.name}</Link>
                </td>
                <td>
                  <Link to={`/projects/${w.project_id}`}>{projectName(w.project_id)}</Link>
                </td>
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
      )}
    </div>
  );
}
