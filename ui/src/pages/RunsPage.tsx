import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { ProjectCrumb } from "../components/ProjectCrumb";
import { useExecutionHistory, useWorkflow, useWorkflows } from "../api/hooks";
import type { Execution } from "../api/types";
import { OriginLink, RecoveryButtons } from "../builder/Recovery";
import { Empty, ErrorState, Loading, PageHeader, StatusBadge, TriggeredByBadge } from "../components/ui";
import { formatDate, formatDuration } from "../lib/format";
import {
  apiQuery,
  fromLocalInput,
  hasFilters,
  PAGE_SIZES,
  parseRunFilters,
  TIME_RANGES,
  toLocalInput,
  totalOf,
  TRIGGERS,
  withFilters,
  type RunFilters,
} from "../lib/runFilters";
import { EXECUTION_STATUSES, executionTone, statusLabel } from "../lib/status";
import { triggeredByLabel } from "../lib/triggers";

/**
 * Past runs of one workflow (`/workflows/:id/runs`) or of every workflow (`/runs`): filtered
 * by status (with counts), trigger, time and text, a page at a time. The filters live in the
 * query string, so a reload or a shared link keeps them.
 */
export function RunsPage() {
  const { workflowId } = useParams();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => parseRunFilters(params), [params]);
  const workflow = useWorkflow(workflowId);
  const workflows = useWorkflows();
  const key = JSON.stringify([workflowId ?? null, filters]);
  const history = useExecutionHistory(() => apiQuery(filters, workflowId, Date.now()), key);
  const name = (id: string) => workflows.data?.find((w) => w.id === id)?.name ?? "workflow";
  const update = useCallback(
    (patch: Partial<RunFilters>, replace = false) => setParams((p) => withFilters(p, patch), { replace }),
    [setParams],
  );

  const pages = history.data?.pages ?? [];
  const first = pages[0];
  const counts = first?.counts;
  // A run may move from one page to the next while pages load: show it once.
  const rows = useMemo(() => {
    const seen = new Set<string>();
    const out: Execution[] = [];
    for (const p of pages) for (const e of p.executions) if (!seen.has(e.id)) (seen.add(e.id), out.push(e));
    return out;
  }, [pages]);
  const total = first?.total ?? 0;

  const openRun = (e: Execution) => navigate(`/workflows/${e.workflow_id}?run=${e.id}`);

  return (
    <div className="page">
      {workflow.data && (
        <nav className="breadcrumbs" aria-label="Breadcrumbs">
          <ProjectCrumb projectId={workflow.data.project_id} /> /{" "}
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
        {["", ...EXECUTION_STATUSES].map((s) => {
          const n = s ? (counts?.[s] ?? 0) : totalOf(counts);
          const countId = `count-${s || "all"}`;
          return (
            <button
              key={s || "all"}
              type="button"
              className={`chip${filters.status === s ? " chip-active" : ""}`}
              aria-pressed={filters.status === s}
              aria-label={s ? statusLabel(s) : "all"}
              aria-describedby={counts ? countId : undefined}
              data-status={s || "all"}
              onClick={() => update({ status: s as RunFilters["status"] })}
            >
              {s ? statusLabel(s) : "all"}
              {counts && (
                <span className="chip-count" id={countId} data-count={n}>
                  {n.toLocaleString()}
                  <span className="sr-only"> {n === 1 ? "run" : "runs"}</span>
                </span>
              )}
            </button>
          );
        })}
      </div>
      <RunFilterBar filters={filters} workflowId={workflowId} update={update} onClear={() => setParams(new URLSearchParams(filters.limit !== 50 ? { limit: String(filters.limit) } : {}))} />
      {history.isLoading && <Loading what="runs" />}
      {history.isError && <ErrorState error={history.error} retry={() => void history.refetch()} />}
      {history.data && rows.length === 0 && (
        <Empty title={filters.status ? `No ${statusLabel(filters.status)} runs` : hasFilters(filters) ? "No runs match" : "No runs yet"}>
          {hasFilters(filters) ? (
            <p>Change or clear the filters to see more runs.</p>
          ) : (
            <p>{workflowId ? "Open the builder and press Build to start a run." : "Build a workflow to start a run."}</p>
          )}
        </Empty>
      )}
      {rows.length > 0 && (
        <>
          <p className="muted small runs-summary" role="status" aria-live="polite">
            Showing {rows.length.toLocaleString()} of {total.toLocaleString()} run{total === 1 ? "" : "s"}
          </p>
          <div className="table-scroll">
            <table className="table" aria-label="Runs">
              <thead>
                <tr>
                  <th>Status</th>
                  {!workflowId && <th>Workflow</th>}
                  <th>Started by</th>
                  <th>Version</th>
                  <th>Started</th>
                  <th>Duration</th>
                  <th>
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((e) => (
                  <tr key={e.id} data-execution-id={e.id}>
                    <td>
                      <StatusBadge tone={executionTone(e.status)}>{statusLabel(e.status)}</StatusBadge>
                      <OriginLink execution={e} className="small block origin" />
                    </td>
                    {!workflowId && <td>{name(e.workflow_id)}</td>}
                    <td>{e.triggered_by ? <TriggeredByBadge by={e.triggered_by} /> : <span className="muted">—</span>}</td>
                    <td>{e.code_version ? `v${e.code_version}` : "—"}</td>
                    <td>{formatDate(e.started_at)}</td>
                    <td>{formatDuration(e.duration_ms)}</td>
                    <td>
                      <div className="row-actions">
                        <RecoveryButtons execution={e} idLabel={e.id} onStarted={(started) => openRun(started)} />
                        <Link to={`/workflows/${e.workflow_id}?run=${e.id}`} aria-label={`Open run ${e.id}`}>
                          Open
                        </Link>
                        {e.temporal_ui_url && (
                          <a href={e.temporal_ui_url} target="_blank" rel="noreferrer">
                            Temporal ↗
                          </a>
                        )}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="paging">
            {history.hasNextPage ? (
              <button
                type="button"
                className="btn"
                onClick={() => void history.fetchNextPage()}
                disabled={history.isFetchingNextPage}
              >
                {history.isFetchingNextPage ? "Loading…" : "Load more"}
              </button>
            ) : (
              <span className="muted small">{pages.length > 1 ? "That is every matching run." : ""}</span>
            )}
            {history.isFetchNextPageError && (
              <span className="text-error small" role="alert">
                {history.error?.message}
              </span>
            )}
          </div>
        </>
      )}
    </div>
  );
}

function RunFilterBar({
  filters,
  workflowId,
  update,
  onClear,
}: {
  filters: RunFilters;
  workflowId: string | undefined;
  update: (patch: Partial<RunFilters>, replace?: boolean) => void;
  onClear: () => void;
}) {
  const workflows = useWorkflows();
  const [text, setText] = useState(filters.q);
  const typed = useRef(filters.q);
  // The URL changes from outside (back, clear): show what it says.
  useEffect(() => {
    if (filters.q !== typed.current) {
      typed.current = filters.q;
      setText(filters.q);
    }
  }, [filters.q]);
  // Typing searches after a pause, replacing the history entry rather than adding one per key.
  useEffect(() => {
    if (text === filters.q) return undefined;
    const t = window.setTimeout(() => {
      typed.current = text;
      update({ q: text }, true);
    }, 350);
    return () => window.clearTimeout(t);
  }, [text, filters.q, update]);

  return (
    <form
      className="run-filters"
      role="search"
      aria-label="Filter runs"
      onSubmit={(e) => {
        e.preventDefault();
        typed.current = text;
        update({ q: text });
      }}
    >
      <div className="field">
        <label htmlFor="runs-q">Search runs</label>
        <input
          id="runs-q"
          type="search"
          value={text}
          placeholder="Text in input, output or error"
          onChange={(e) => setText(e.target.value)}
          maxLength={200}
        />
      </div>
      <div className="field">
        <label htmlFor="runs-trigger">Started by</label>
        <select id="runs-trigger" value={filters.triggeredBy} onChange={(e) => update({ triggeredBy: e.target.value as RunFilters["triggeredBy"] })}>
          <option value="">anyone or anything</option>
          {TRIGGERS.map((t) => (
            <option key={t} value={t}>
              {triggeredByLabel(t)?.label ?? t}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="runs-range">Time range</label>
        <select id="runs-range" value={filters.range} onChange={(e) => update({ range: e.target.value as RunFilters["range"] })}>
          {TIME_RANGES.map((r) => (
            <option key={r.value || "any"} value={r.value}>
              {r.label}
            </option>
          ))}
        </select>
      </div>
      {filters.range === "custom" && (
        <>
          <div className="field">
            <label htmlFor="runs-since">From</label>
            <input
              id="runs-since"
              type="datetime-local"
              value={toLocalInput(filters.since)}
              onChange={(e) => update({ since: fromLocalInput(e.target.value) }, true)}
            />
          </div>
          <div className="field">
            <label htmlFor="runs-until">To</label>
            <input
              id="runs-until"
              type="datetime-local"
              value={toLocalInput(filters.until)}
              onChange={(e) => update({ until: fromLocalInput(e.target.value) }, true)}
            />
          </div>
        </>
      )}
      {!workflowId && (
        <div className="field">
          <label htmlFor="runs-workflow">Workflow</label>
          <select id="runs-workflow" value={filters.workflowId} onChange={(e) => update({ workflowId: e.target.value })}>
            <option value="">every workflow</option>
            {(workflows.data ?? []).map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </div>
      )}
      <div className="field">
        <label htmlFor="runs-limit">Runs per page</label>
        <select id="runs-limit" value={filters.limit} onChange={(e) => update({ limit: Number(e.target.value) })}>
          {[...new Set([...PAGE_SIZES, filters.limit])].sort((a, b) => a - b).map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </div>
      {hasFilters(filters) && (
        <button type="button" className="btn btn-small run-filters-clear" onClick={onClear}>
          Clear filters
        </button>
      )}
    </form>
  );
}
