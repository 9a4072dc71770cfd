import { useState } from "react";
import { ProjectFigures } from "../components/projects";
import { Link, useNavigate } from "react-router-dom";
import { useProjects } from "../api/hooks";
import type { Project } from "../api/types";
import { NewProjectDialog } from "../components/NewProjectDialog";
import { Empty, ErrorState, Loading, PageHeader, StatusDot } from "../components/ui";
import { WorkerControls, WorkerFailureDetails } from "../components/workers";
import { formatNumber } from "../lib/format";
import { workerState } from "../lib/workerState";

export function ProjectsPage() {
  const projects = useProjects();
  const [creating, setCreating] = useState(false);
  const navigate = useNavigate();
  return (
    <div className="page">
      <PageHeader
        title="Projects"
        subtitle="Each project has its own worker and task queue on Temporal."
        actions={
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            New project
          </button>
        }
      />
      {projects.isLoading && <Loading what="projects" shape="cards" />}
      {projects.isError && <ErrorState error={projects.error} retry={() => void projects.refetch()} />}
      {projects.data && projects.data.length === 0 && (
        <Empty title="No projects yet">
          <p>Create a project to start building workflows.</p>
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
            Create your first project
          </button>
        </Empty>
      )}
      {projects.data && projects.data.length > 0 && (
        <ul className="card-grid" aria-label="Projects">
          {projects.data.map((p) => (
            <ProjectCard key={p.id} project={p} />
          ))}
        </ul>
      )}
      {creating && (
        <NewProjectDialog
          onClose={() => setCreating(false)}
          onCreated={(p) => {
            setCreating(false);
            navigate(`/projects/${p.id}`);
          }}
        />
      )}
    </div>
  );
}

function ProjectCard({ project: p }: { project: Project }) {
  const worker = workerState(p);
  return (
    <li className="card project-card" aria-label={`Project ${p.name}`}>
      <div className="card-head">
        <h2>
          <Link to={`/projects/${p.id}`}>{p.name}</Link>
        </h2>
        <span className="worker-status" data-tone={worker.tone} data-worker-status={worker.label}>
          <StatusDot tone={worker.tone} label={`Worker ${worker.label}`} pulse={worker.tone === "yellow"} />
          Worker {worker.label}
        </span>
      </div>
      {p.description && <p className="muted">{p.description}</p>}
      <div className="mono small muted" title="Temporal task queue">
        queue: {p.task_queue_name}
      </div>
      <ProjectFigures
        project={p}
        lead={
          <div>
            <dt>Workflows</dt>
            <dd>{formatNumber(p.workflow_count ?? 0)}</dd>
          </div>
        }
      />
      <div className="card-actions">
        <Link className="btn btn-small btn-primary" to={`/workflows/new?project_id=${p.id}`}>
          Create workflow
        </Link>
        <Link className="btn btn-small" to={`/projects/${p.id}`}>
          View workflows
        </Link>
        <Link className="btn btn-small" to={`/projects/${p.id}/stats`}>
          Statistics
        </Link>
      </div>
      {worker.failure && <WorkerFailureDetails failure={worker.failure} />}
      <WorkerControls project={p} compact />
    </li>
  );
}
