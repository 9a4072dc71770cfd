import { Link, useParams, useSearchParams } from "react-router-dom";
import { useProject, useUpdateProject, useWorkflows } from "../api/hooks";
import type { Project } from "../api/types";
import { Empty, ErrorState, Loading, PageHeader, StatusDot, TabPanel, Tabs } from "../components/ui";
import { SecretsTab } from "../components/secrets";
import { WorkerControls, WorkerFailureDetails, WorkerIndicator } from "../components/workers";
import { failureOf } from "../lib/workerState";
import { formatDate, formatNumber, formatRelative } from "../lib/format";
import { workerTone } from "../lib/status";
import { ProjectFigures, WorkflowTable } from "../components/projects";

type ProjectTab = "overview" | "secrets";

export function ProjectPage() {
  const { projectId } = useParams();
  const [params, setParams] = useSearchParams();
  const tab: ProjectTab = params.get("tab") === "secrets" ? "secrets" : "overview";
  const project = useProject(projectId, 3000);
  if (project.isLoading) return <Loading what="project" />;
  if (project.isError) return <ErrorState error={project.error} retry={() => void project.refetch()} />;
  const p = project.data;
  if (!p) return null;
  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <Link to="/projects">Projects</Link> / <span>{p.name}</span>
      </nav>
      <PageHeader
        title={p.name}
        subtitle={p.description ?? undefined}
        actions={
          <>
            <WorkerIndicator project={p} projectId={p.id} />
            <Link className="btn" to={`/projects/${p.id}/stats`}>
              Statistics
            </Link>
            <Link className="btn btn-primary" to={`/workflows/new?project_id=${p.id}`}>
              New workflow
            </Link>
          </>
        }
      />
      <Tabs<ProjectTab>
        label="Project sections"
        idPrefix="project"
        className="tabs-page"
        tabs={[
          { value: "overview", label: "Overview" },
          { value: "secrets", label: "Secrets" },
        ]}
        value={tab}
        onChange={(t) => {
          const next = new URLSearchParams(params);
          if (t === "overview") next.delete("tab");
          else next.set("tab", t);
          setParams(next, { replace: true });
        }}
      />
      <TabPanel idPrefix="project" value={tab}>
        {tab === "secrets" ? <SecretsTab projectId={p.id} /> : <Overview project={p} />}
      </TabPanel>
    </div>
  );
}

function Overview({ project: p }: { project: Project }) {
  const workflows = useWorkflows(p.id);
  return (
    <>
      <section className="card">
        <ProjectFigures
          project={p}
          lead={
            <div>
              <dt>Task queue</dt>
              <dd className="mono small">{p.task_queue_name}</dd>
            </div>
          }
        />
      </section>

      <PythonNetwork project={p} />

      <section className="section">
        <h2>Workflows</h2>
        {workflows.isLoading && <Loading what="workflows" />}
        {workflows.isError && <ErrorState error={workflows.error} retry={() => void workflows.refetch()} />}
        {workflows.data && workflows.data.length === 0 && (
          <Empty title="No workflows in this project">
            <p>Draw your first workflow: a start node, a few steps, an end node.</p>
            <Link className="btn btn-primary" to={`/workflows/new?project_id=${p.id}`}>
              Create workflow
            </Link>
          </Empty>
        )}
        {workflows.data && workflows.data.length > 0 && (
          <WorkflowTable
            workflows={workflows.data}
            extra={{ header: "Key", cell: (w) => <span className="mono small">{w.key}</span> }}
          />
        )}
      </section>

      <section className="section">
        <div className="section-head">
          <h2>Workers</h2>
          <WorkerControls project={p} />
        </div>
        {(p.workers ?? []).length === 0 ? (
          <p className="muted">
            {(p.deployed_workflow_count ?? 1) < 1
              ? "No workflow deployed yet, so there is no worker. Building a workflow starts one."
              : "No worker has run yet. Building a workflow starts one; idle workers scale to zero."}
          </p>
        ) : (
          <div className="table-scroll">
            <table className="table" aria-label="Worker registry">
              <thead>
                <tr>
                  <th>Status</th>
                  <th>Worker</th>
                  <th>Host / PID</th>
                  <th>Started</th>
                  <th>Heartbeat</th>
                  <th>Tasks</th>
                </tr>
              </thead>
              <tbody>
                {(p.workers ?? []).map((w) => (
                  <tr key={w.id}>
                    <td>
                      <StatusDot tone={workerTone(w.status)} /> {w.status}
                      {w.status === "failed" && <WorkerFailureDetails failure={failureOf(w)} />}
                    </td>
                    <td className="mono small">{w.worker_id}</td>
                    <td>
                      {w.host ?? "—"} / {w.process_id ?? "—"}
                    </td>
                    <td>{formatDate(w.started_at)}</td>
                    <td>{formatRelative(w.last_heartbeat)}</td>
                    <td>
                      {formatNumber(w.total_tasks_completed ?? 0)} ok · {formatNumber(w.total_tasks_failed ?? 0)} failed
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}

function PythonNetwork({ project }: { project: Project }) {
  const update = useUpdateProject(project.id);
  const on = project.python_network ?? false;
  return (
    <section className="card">
      <label className="checkbox">
        <input
          type="checkbox"
          checked={on}
          disabled={update.isPending}
          onChange={(e) => update.mutate({ python_network: e.target.checked })}
        />{" "}
        Python nodes may make HTTP(S) requests
      </label>
      <p className="muted small">
        {on
          ? "Through the same guard as HTTP nodes: never to this machine, private networks or runloom's own services."
          : "Off: python nodes have no network at all. Turning it on restarts the project's worker."}
      </p>
      {update.isError && <p className="error">{String(update.error)}</p>}
    </section>
  );
}
