import { useEffect, useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { useCreateWorkflow, useProjects } from "../api/hooks";
import type { Graph } from "../api/types";
import { NewProjectDialog } from "../components/NewProjectDialog";
import { ErrorState, Loading, PageHeader } from "../components/ui";

/** A new workflow starts with a start node wired to an end node. */
export const STARTER_GRAPH: Graph = {
  nodes: [
    { id: "start", type: "start", position: { x: 0, y: 0 } },
    // No output: the run returns every step's output, as the End node's help says.
    { id: "end", type: "end", position: { x: 0, y: 260 }, config: {} },
  ],
  edges: [{ source: "start", target: "end" }],
};

export function NewWorkflowPage() {
  const [params] = useSearchParams();
  const projects = useProjects();
  const create = useCreateWorkflow();
  const navigate = useNavigate();
  const [projectId, setProjectId] = useState(params.get("project_id") ?? "");
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [newProject, setNewProject] = useState(false);

  useEffect(() => {
    const first = projects.data?.[0];
    if (!projectId && first) setProjectId(first.id);
  }, [projects.data, projectId]);

  const project = projects.data?.find((p) => p.id === projectId);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!project) return;
    create.mutate(
      { project_id: project.id, name: name.trim(), description: description.trim() || undefined, graph: STARTER_GRAPH },
      { onSuccess: (wf) => navigate(`/workflows/${wf.id}`) },
    );
  };

  return (
    <div className="page page-narrow">
      <PageHeader title="New workflow" subtitle="Pick the project it belongs to; its worker will run it." />
      {projects.isLoading && <Loading what="projects" />}
      {projects.isError && <ErrorState error={projects.error} retry={() => void projects.refetch()} />}
      {projects.data && (
        <form className="card form" onSubmit={submit} aria-label="New workflow">
          <div className="field">
            <label htmlFor="wf-project">Project</label>
            <div className="inline">
              <select
                id="wf-project"
                value={projectId}
                onChange={(e) => setProjectId(e.target.value)}
                required
                disabled={projects.data.length === 0}
              >
                {projects.data.length === 0 && <option value="">No projects yet</option>}
                {projects.data.map((p) => (
                  <option key={p.id} value={p.id}>
                    {p.name}
                  </option>
                ))}
              </select>
              <button type="button" className="btn" onClick={() => setNewProject(true)}>
                New project
              </button>
            </div>
            {projects.data.length === 0 && (
              <p className="muted small">You need a project first: create one with “New project”.</p>
            )}
          </div>
          <label className="field">
            <span>Task queue</span>
            <input readOnly value={project?.task_queue_name ?? ""} className="mono" aria-readonly="true" />
          </label>
          <label className="field">
            <span>Workflow name</span>
            <input required maxLength={120} value={name} onChange={(e) => setName(e.target.value)} placeholder="Process order" />
          </label>
          <label className="field">
            <span>Description</span>
            <textarea rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />
          </label>
          {create.isError && (
            <p className="text-error" role="alert">
              {create.error.message}
            </p>
          )}
          <div className="form-actions">
            <Link className="btn" to="/projects">
              Cancel
            </Link>
            <button type="submit" className="btn btn-primary" disabled={!project || !name.trim() || create.isPending}>
              {create.isPending ? "Creating…" : "Create and open builder"}
            </button>
          </div>
        </form>
      )}
      {newProject && (
        <NewProjectDialog
          onClose={() => setNewProject(false)}
          onCreated={(p) => {
            setNewProject(false);
            setProjectId(p.id);
          }}
        />
      )}
    </div>
  );
}
