import { Link, useParams } from "react-router-dom";
import {
  Bar,
  BarChart,
  CartesianGrid,
  Legend,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { useProject, useProjectStats } from "../api/hooks";
import { Empty, ErrorState, Loading, PageHeader, Stat } from "../components/ui";
import { formatDate, formatDuration, formatNumber, formatPercent, formatRelative } from "../lib/format";
import { TONE_COLOURS } from "../lib/status";

function bucketLabel(bucket: string): string {
  const d = new Date(bucket);
  if (Number.isNaN(d.getTime())) return bucket;
  return d.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

function histogramLabel(le: number | null, prev: number | null): string {
  if (le === null) return `> ${formatDuration(prev)}`;
  return `≤ ${formatDuration(le)}`;
}

export function StatsPage() {
  const { projectId } = useParams();
  const project = useProject(projectId, false);
  const stats = useProjectStats(projectId);
  const s = stats.data;
  const overTime = (s?.executions_over_time ?? []).map((b) => ({ ...b, label: bucketLabel(b.bucket) }));
  const histogram = (s?.duration_histogram ?? []).map((h, i, all) => ({
    label: histogramLabel(h.le_ms, i > 0 ? (all[i - 1]?.le_ms ?? null) : null),
    count: h.count,
  }));
  const total = s?.project.total_workflow_executions ?? 0;
  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumbs">
        <Link to="/projects">Projects</Link> / <Link to={`/projects/${projectId}`}>{project.data?.name ?? "project"}</Link> /{" "}
        <span>Statistics</span>
      </nav>
      <PageHeader title={`Statistics${project.data ? ` · ${project.data.name}` : ""}`} subtitle="Recorded by the tracker from every finished run's Temporal history." />
      {stats.isLoading && <Loading what="statistics" />}
      {stats.isError && <ErrorState error={stats.error} retry={() => void stats.refetch()} />}
      {s && (
        <>
          <section className="stat-grid" aria-label="Summary">
            <Stat label="Executions" value={formatNumber(total)} />
            <Stat label="Success rate" value={formatPercent(s.project.success_rate)} />
            <Stat label="Average duration" value={formatDuration(s.project.avg_execution_duration_ms)} />
            <Stat label="Last run" value={formatRelative(s.project.last_execution_at)} hint={formatDate(s.project.last_execution_at)} />
          </section>
          {total === 0 ? (
            <Empty title="No finished runs yet">
              <p>Build and run a workflow of this project; its figures appear here when the run ends.</p>
            </Empty>
          ) : (
            <div className="chart-grid">
              <section className="card chart-card" aria-label="Executions over time">
                <h2>Executions over time</h2>
                <div className="chart">
                  <ResponsiveContainer width="100%" height={240}>
                    <BarChart data={overTime}>
                      <CartesianGrid strokeDasharray="3 3" vertical={false} />
                      <XAxis dataKey="label" fontSize={11} />
                      <YAxis allowDecimals={false} fontSize={11} />
                      <Tooltip />
                      <Legend />
                      <Bar dataKey="completed" stackId="a" fill={TONE_COLOURS.green} name="completed" isAnimationActive={false} />
                      <Bar dataKey="failed" stackId="a" fill={TONE_COLOURS.red} name="failed" isAnimationActive={false} />
                    </BarChart>
                  </ResponsiveContainer>
                </div>
              </section>
              <section className="card chart-card" aria-label="Duration distribution">
                <h2>Duration distribution</h2>
                <div className="chart">
                  <ResponsiveContainer width="100%" height={240}>
                    <BarChart data={histogram}>
                      <CartesianGrid strokeDasharray="3 3" vertical={false} />
                      <XAxis dataKey="label" fontSize={11} />
                      <YAxis allowDecimals={false} fontSize={11} />
                      <Tooltip />
                      <Bar dataKey="count" fill="#6366f1" name="runs" isAnimationActive={false} />
                    </BarChart>
                  </ResponsiveContainer>
                </div>
              </section>
            </div>
          )}
          <section className="section">
            <h2>Workflows</h2>
            {s.workflows.length === 0 ? (
              <p className="muted">No workflow has run yet.</p>
            ) : (
              <div className="table-scroll">
                <table className="table" aria-label="Workflow statistics">
                  <thead>
                    <tr>
                      <th>Workflow</th>
                      <th className="num">Runs</th>
                      <th className="num">Errors</th>
                      <th className="num">Average</th>
                    </tr>
                  </thead>
                  <tbody>
                    {s.workflows.map((w) => (
                      <tr key={w.workflow_id}>
                        <td>
                          <Link to={`/workflows/${w.workflow_id}`}>{w.name}</Link>
                        </td>
                        <td className="num">{formatNumber(w.execution_count)}</td>
                        <td className="num">{formatNumber(w.error_count)}</td>
                        <td className="num">{formatDuration(w.avg_execution_duration_ms)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          <section className="section">
            <h2>Activities</h2>
            {s.activities.length === 0 ? (
              <p className="muted">No activity has run yet. Activity figures come from steps such as HTTP requests, transforms and Python code.</p>
            ) : (
              <div className="table-scroll">
                <table className="table" aria-label="Activity statistics">
                  <thead>
                    <tr>
                      <th>Activity</th>
                      <th className="num">Count</th>
                      <th className="num">Failures</th>
                      <th className="num">Average</th>
                      <th className="num">p95</th>
                      <th className="num">p99</th>
                      <th>Last run</th>
                    </tr>
                  </thead>
                  <tbody>
                    {s.activities.map((a) => (
                      <tr key={a.activity_name}>
                        <td className="mono small">{a.activity_name}</td>
                        <td className="num">{formatNumber(a.execution_count)}</td>
                        <td className="num">{formatNumber(a.failure_count)}</td>
                        <td className="num">{formatDuration(a.avg_duration_ms)}</td>
                        <td className="num">{formatDuration(a.p95_duration_ms)}</td>
                        <td className="num">{formatDuration(a.p99_duration_ms)}</td>
                        <td>{formatRelative(a.last_executed_at)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </>
      )}
    </div>
  );
}
