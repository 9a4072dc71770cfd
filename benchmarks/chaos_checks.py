"""`make chaos`, part 4: once everything settled, what the database says against what
Temporal says, run by run, and the statistics against the rows."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.service import RPCError, RPCStatusCode

from benchmarks.chaos_load import KINDS, Started

OPEN = ("pending", "running")
_STATUS_OF = {
    WorkflowExecutionStatus.COMPLETED: "completed",
    WorkflowExecutionStatus.FAILED: "failed",
    WorkflowExecutionStatus.CANCELED: "cancelled",
    WorkflowExecutionStatus.TERMINATED: "terminated",
    WorkflowExecutionStatus.TIMED_OUT: "timed_out",
    WorkflowExecutionStatus.RUNNING: "running",
    WorkflowExecutionStatus.CONTINUED_AS_NEW: "continued_as_new",
}
# What runloom's API says when it terminates a run it could not record (no row, by design).
_UNRECORDED_REASON = "runloom could not record this run"


@dataclass
class Findings:
    rows: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    lost: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    phantoms: list[str] = field(default_factory=list)  # Temporal runs without a row
    unrecorded_starts: int = 0  # runs the API terminated itself because it could not record
    disagreements: list[str] = field(default_factory=list)  # row vs Temporal
    unexpected: list[str] = field(default_factory=list)  # an outcome its graph cannot give
    stats_mismatches: list[str] = field(default_factory=list)
    stats_checked: int = 0
    temporal_runs: int = 0


async def open_rows(database_url: str, project_ids: list[str]) -> int | None:
    try:
        async with await psycopg.AsyncConnection.connect(database_url, connect_timeout=3) as conn:
            row = await (
                await conn.execute(
                    "SELECT count(*) FROM public.workflow_executions "
                    "WHERE project_id = ANY(%s::uuid[]) AND status IN ('pending', 'running')",
                    (project_ids,),
                )
            ).fetchone()
        return int(row[0]) if row else 0
    except (psycopg.Error, OSError):
        return None


async def _rows(database_url: str, project_ids: list[str]) -> list[dict[str, Any]]:
    async with await psycopg.AsyncConnection.connect(database_url, row_factory=dict_row) as conn:
        cursor = await conn.execute(
            "SELECT id::text, workflow_id::text, project_id::text, status, output, error, "
            "temporal_workflow_id, temporal_run_id, code_version, task_queue_name, "
            "stats_recorded_at, finished_at FROM public.workflow_executions "
            "WHERE project_id = ANY(%s::uuid[])",
            (project_ids,),
        )
        return list(await cursor.fetchall())


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


async def _temporal_view(client: Client, row: dict[str, Any]) -> tuple[str, Any]:
    """(status, output) of the row's run as Temporal reports it; ("missing", None) if gone."""
    handle = client.get_workflow_handle(row["temporal_workflow_id"], run_id=row["temporal_run_id"])
    for attempt in range(5):
        try:
            description = await handle.describe()
            status = (
                _STATUS_OF.get(description.status, str(description.status))
                if description.status is not None
                else "unknown"
            )
            if status != "completed":
                return status, None
            try:
                return status, await handle.result(follow_runs=False)
            except WorkflowFailureError:
                return "failed", None
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return "missing", None
            await asyncio.sleep(0.5 * (attempt + 1))
    return "unreachable", None


async def _unrecorded(client: Client, workflow_id: str, run_id: str) -> bool:
    """Whether runloom itself terminated this run because it could not record it."""
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
            reason = event.workflow_execution_terminated_event_attributes.reason
            return bool(reason == _UNRECORDED_REASON)
    return False


async def check_runs(
    *,
    database_url: str,
    temporal_address: str,
    projects: list[dict[str, Any]],
    started: list[Started],
    on_progress: Callable[[int, int], None] = lambda done, total: None,
) -> tuple[Findings, list[dict[str, Any]]]:
    project_ids = [p["id"] for p in projects]
    rows = await _rows(database_url, project_ids)
    found = Findings(rows=len(rows))
    by_id = {r["id"]: r for r in rows}
    for run in started:
        if run.execution_id not in by_id:
            found.lost.append(f"accepted start {run.index} ({run.execution_id}) has no row")
    per_workflow_id = Counter(r["temporal_workflow_id"] for r in rows)
    found.duplicates += [f"{w}: {n} rows" for w, n in per_workflow_id.items() if n > 1]

    client = await Client.connect(temporal_address)
    limit = asyncio.Semaphore(16)
    kind_of = {s.execution_id: s.flow.kind for s in started}
    done = 0

    async def one(row: dict[str, Any]) -> None:
        nonlocal done
        async with limit:
            status, output = await _temporal_view(client, row)
        done += 1
        on_progress(done, len(rows))
        found.by_status[row["status"]] += 1
        name = f"{row['id']} ({row['temporal_workflow_id']})"
        if row["status"] in OPEN:
            found.stuck.append(f"{name} still {row['status']}; Temporal: {status}")
        if status == "missing":
            found.lost.append(f"{name}: Temporal has no such run")
        elif status != row["status"]:
            found.disagreements.append(f"{name}: row {row['status']}, Temporal {status}")
        elif status == "completed" and _canonical(output) != _canonical(row["output"]):
            found.disagreements.append(
                f"{name}: row output {_canonical(row['output'])[:120]}, "
                f"Temporal {_canonical(output)[:120]}"
            )
        kind = kind_of.get(row["id"])
        if kind is not None:
            expected = KINDS[kind][1]
            if row["status"] != expected:
                found.unexpected.append(f"{name} ({kind}): {row['status']}, not {expected}")
            elif kind == "signal" and (row["output"] or {}).get("by") != "chaos":
                found.unexpected.append(f"{name}: the signal did not arrive: {row['output']}")

    await asyncio.gather(*(one(r) for r in rows))
    await _check_queues(client, projects, rows, found)
    return found, rows


async def _check_queues(
    client: Client, projects: list[dict[str, Any]], rows: list[dict[str, Any]], found: Findings
) -> None:
    """Every run Temporal has on the projects' queues has its row, and one run per id."""
    known = {(r["temporal_workflow_id"], r["temporal_run_id"]) for r in rows}
    runs_per_id: Counter[str] = Counter()
    for project in projects:
        queue = project["task_queue_name"].replace("'", "\\'")
        async for execution in client.list_workflows(f"TaskQueue = '{queue}'"):
            found.temporal_runs += 1
            runs_per_id[execution.id] += 1
            if (execution.id, execution.run_id) in known:
                continue
            if execution.status == WorkflowExecutionStatus.TERMINATED and await _unrecorded(
                client, execution.id, execution.run_id
            ):
                found.unrecorded_starts += 1
                continue
            status = _STATUS_OF.get(execution.status, "?") if execution.status else "?"
            found.phantoms.append(f"{execution.id}/{execution.run_id} ({status}) has no row")
    found.duplicates += [f"{w}: {n} Temporal runs" for w, n in runs_per_id.items() if n > 1]


async def check_statistics(
    database_url: str, projects: list[dict[str, Any]], rows: list[dict[str, Any]], found: Findings
) -> None:
    """Counters kept by the tracker against the rows they count: each run exactly once."""
    finished = [r for r in rows if r["stats_recorded_at"] is not None]
    per_project = Counter(r["project_id"] for r in finished)
    per_version = Counter((r["workflow_id"], str(r["code_version"])) for r in finished)
    errors = Counter(
        (r["workflow_id"], str(r["code_version"])) for r in finished if r["status"] != "completed"
    )
    unstamped = [
        r["id"] for r in rows if r["status"] not in OPEN and r["stats_recorded_at"] is None
    ]
    found.stats_mismatches += [f"row {i} ended without stats_recorded_at" for i in unstamped]
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        for project in projects:
            row = await (
                await conn.execute(
                    "SELECT coalesce(total_workflow_executions, 0) FROM public.projects "
                    "WHERE id = %s",
                    (project["id"],),
                )
            ).fetchone()
            total = int(row[0]) if row else -1
            found.stats_checked += 1
            if total != per_project[project["id"]]:
                found.stats_mismatches.append(
                    f"project {project['id']}: total_workflow_executions {total}, "
                    f"finished rows {per_project[project['id']]}"
                )
        cursor = await conn.execute(
            "SELECT c.workflow_id::text, c.version::text, coalesce(c.execution_count, 0), "
            "coalesce(c.error_count, 0) FROM public.workflow_compiled_code AS c "
            "JOIN public.workflows AS w ON w.id = c.workflow_id "
            "WHERE w.project_id = ANY(%s::uuid[])",
            ([p["id"] for p in projects],),
        )
        for workflow_id, version, count, error_count in await cursor.fetchall():
            key = (workflow_id, version)
            found.stats_checked += 1
            if (count, error_count) != (per_version[key], errors[key]):
                found.stats_mismatches.append(
                    f"workflow {workflow_id} v{version}: execution_count {count} / "
                    f"error_count {error_count}, rows {per_version[key]} / {errors[key]}"
                )
