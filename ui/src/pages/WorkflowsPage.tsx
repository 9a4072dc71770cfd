import { Link } from "react-router-dom";
import { useProjects, useWorkflows } from "../api/hooks";
import { Empty, ErrorState, Loading, PageHeader } from "../components/ui";
import { WorkflowTable } from "../components/projects";

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
        <WorkflowTable
          workflows={workflows.data}
          extra={{
            header: "Project",
            cell: (w) => <Link to={`/projects/${w.project_id}`}>{projectName(w.project_id)}</Link>,
          }}
        />
      )}
    </div>
  );
}
