"""Executions: runloom's record of each Temporal run it started or followed."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import DictRow, class_row
from psycopg.types.json import Jsonb

from runloom import naming
from runloom.errors import InvalidRequestError, NotFoundError
from runloom.models import Execution, ExecutionStatus, TriggeredBy
from runloom.store.queries import sql
from runloom.store.stats import ActivityRun

__all__ = [
    "MANUAL",
    "CursorError",
    "FinishedRun",
    "HistoryFilter",
    "HistoryPage",
    "Origin",
    "RunEnd",
    "StartContext",
    "TrackedRun",
    "count_executions",
    "get_execution",
    "get_tracked_run",
    "insert_execution",
    "list_executions",
    "lock_temporal_workflow",
    "open_execution_ids",
    "open_run_in_workflow",
    "record_end",
    "record_ends",
    "record_retry",
    "start_context",
]

Conn = AsyncConnection[DictRow]


@dataclass(frozen=True, slots=True)
class Origin:
    """What started a run: a person, a program with an API key, or one of the workflow's
    triggers (then ``trigger_id`` names it); for a re-run, ``rerun_of`` names the run it
    starts again."""

    triggered_by: TriggeredBy = "manual"
    trigger_id: uuid.UUID | None = None
    rerun_of: uuid.UUID | None = None


MANUAL = Origin()


@dataclass(frozen=True, slots=True)
class StartContext:
    """Everything a start needs, read in the caller's transaction."""

    workflow_id: uuid.UUID
    key: str
    project_id: uuid.UUID
    task_queue_name: str
    code_id: uuid.UUID
    version: int
    worker_ready: bool
    # The user's open runs, counted no further than start_context's ``open_up_to``.
    open_runs: int
    # The version's `settings.execution_timeout_s` (recorded in its compiler options).
    execution_timeout_s: float | None = None
    # The project's Temporal namespace (None: the shared TEMPORAL_NAMESPACE).
    temporal_namespace: str | None = None

    @property
    def workflow_type(self) -> str:
        return naming.workflow_type(self.key, self.version)

    @property
    def execution_timeout(self) -> timedelta | None:
        """Temporal's execution timeout of the run (None: none, Temporal's default)."""
        seconds = self.execution_timeout_s
        return None if seconds is None else timedelta(seconds=seconds)


@dataclass(frozen=True, slots=True)
class TrackedRun:
    """What the tracker needs of an execution it follows."""

    id: uuid.UUID
    temporal_workflow_id: str | None
    temporal_run_id: str | None
    stats_recorded_at: datetime | None
    temporal_namespace: str | None = None  # None: the shared TEMPORAL_NAMESPACE

    @property
    def memo_execution_id(self) -> uuid.UUID | None:
        """The execution the run's memo names: the one its Temporal workflow id was made
        for (``<key>-<execution id>``): its own, or for a retry (a reset run, which keeps
        the memo and the workflow id of the run it was reset from) the chain's first."""
        if self.temporal_workflow_id is None:
            return None
        return naming.execution_id_of(self.temporal_workflow_id)


@dataclass(frozen=True, slots=True)
class FinishedRun:
    """The execution the tracker just marked finished (it alone records its statistics)."""

    id: uuid.UUID
    workflow_id: uuid.UUID
    project_id: uuid.UUID
    code_version: int | None


async def start_context(
    conn: Conn, *, workflow_id: uuid.UUID, version: int | None, open_up_to: int
) -> StartContext:
    cur = await conn.execute(
        sql("executions_start_context"),
        {
            "workflow_id": workflow_id,
            "version": None if version is None else str(version),
            "open_up_to": open_up_to,
        },
    )
    row = await cur.fetchone()
    if row is None:
        raise NotFoundError(f"workflow {workflow_id} not found")
    if row["code_id"] is None:
        if version is not None:
            raise NotFoundError(f"workflow {workflow_id} has no version {version}")
        raise NotFoundError(
            f"workflow {workflow_id} has not been deployed yet; deploy or build it first"
        )
    return StartContext(**{**row, "version": int(row["version"])})


async def insert_execution(
    conn: Conn,
    *,
    execution_id: uuid.UUID,
    context: StartContext,
    input: Any,
    temporal_workflow_id: str,
    temporal_run_id: str | None,
    origin: Origin = MANUAL,
) -> Execution:
    """Record a run Temporal accepted, as the session's user; the tracker hears of it on
    commit."""
    cur = await conn.execute(
        sql("executions_insert"),
        {
            "id": execution_id,
            "workflow_id": context.workflow_id,
            "project_id": context.project_id,
            "input": Jsonb(input),
            "temporal_workflow_id": temporal_workflow_id,
            "temporal_run_id": temporal_run_id,
            "code_version": str(context.version),
            "workflow_type": context.workflow_type,
            "task_queue_name": context.task_queue_name,
            "triggered_by": origin.triggered_by,
            "trigger_id": origin.trigger_id,
            "rerun_of": origin.rerun_of,
        },
    )
    row = await cur.fetchone()
    assert row is not None
    return Execution.model_validate(row)


async def record_retry(
    conn: Conn, *, execution_id: uuid.UUID, retry_of: uuid.UUID, temporal_run_id: str
) -> Execution:
    """Record the run a Temporal reset of ``retry_of`` made, as the session's user; the
    rest of the row is copied from ``retry_of`` by the database."""
    cur = await conn.execute(
        sql("executions_record_retry"),
        {"id": execution_id, "retry_of": retry_of, "temporal_run_id": temporal_run_id},
    )
    row = await cur.fetchone()
    assert row is not None
    return Execution.model_validate(row)


async def lock_temporal_workflow(conn: Conn, *, temporal_workflow_id: str) -> None:
    """Hold, until the transaction ends, the right to add a run to this workflow id."""
    await conn.execute(
        sql("executions_lock_temporal_workflow"), {"temporal_workflow_id": temporal_workflow_id}
    )


async def open_run_in_workflow(conn: Conn, *, temporal_workflow_id: str) -> uuid.UUID | None:
    """An execution recorded under this Temporal workflow id that has not ended."""
    cur = await conn.execute(
        sql("executions_open_in_workflow"), {"temporal_workflow_id": temporal_workflow_id}
    )
    row = await cur.fetchone()
    if row is None:
        return None
    found: uuid.UUID = row["id"]
    return found


async def get_execution(conn: Conn, execution_id: uuid.UUID) -> Execution:
    row = await (await conn.execute(sql("executions_get"), {"id": execution_id})).fetchone()
    if row is None:
        raise NotFoundError(f"execution {execution_id} not found")
    return Execution.model_validate(row)


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """Which runs a history page shows; ``text`` is searched in input, output and error."""

    workflow_id: uuid.UUID | None = None
    project_id: uuid.UUID | None = None
    status: ExecutionStatus | None = None
    triggered_by: TriggeredBy | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None

    def params(self) -> dict[str, Any]:
        return {
            "workflow_id": self.workflow_id,
            "project_id": self.project_id,
            "status": self.status,
            "triggered_by": self.triggered_by,
            "since": self.since,
            "until": self.until,
            "pattern": None if not self.text else f"%{_like_escaped(self.text)}%",
        }


def _like_escaped(text: str) -> str:
    """``text`` matched literally by ILIKE: its own % and _ are not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True, slots=True)
class HistoryPage:
    executions: list[Execution]
    next_cursor: str | None


class CursorError(InvalidRequestError):
    """A cursor that no history page handed out."""


def encode_cursor(execution: Execution) -> str:
    """Where the next page starts: just after this run, in (created_at, id) order."""
    raw = f"{execution.created_at.isoformat()}|{execution.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, _, execution_id = raw.partition("|")
        return datetime.fromisoformat(created_at), uuid.UUID(execution_id)
    except ValueError as exc:
        raise CursorError(
            "cursor is not one this API handed out; pass `next_cursor` from the previous page"
        ) from exc


async def list_executions(
    conn: Conn, *, where: HistoryFilter, limit: int, cursor: str | None = None
) -> HistoryPage:
    """One page, newest first; ``next_cursor`` is None on the last page. Runs started
    while someone pages appear on a first page again, never twice in one walk."""
    after = decode_cursor(cursor) if cursor else (None, None)
    cur = await conn.execute(
        sql("executions_list"),
        {
            **where.params(),
            "after_created_at": after[0],
            "after_id": after[1],
            "limit": limit + 1,
        },
    )
    rows = [Execution.model_validate(row) for row in await cur.fetchall()]
    page, more = rows[:limit], len(rows) > limit
    return HistoryPage(executions=page, next_cursor=encode_cursor(page[-1]) if more else None)


async def count_executions(conn: Conn, *, where: HistoryFilter) -> dict[str, int]:
    """Matching runs by status (every filter but the status one)."""
    cur = await conn.execute(sql("executions_counts"), where.params())
    return {row["status"]: row["runs"] for row in await cur.fetchall()}


async def open_execution_ids(conn: Conn) -> list[uuid.UUID]:
    cur = await conn.execute(sql("executions_open"))
    return [row["id"] for row in await cur.fetchall()]


async def get_tracked_run(conn: Conn, execution_id: uuid.UUID) -> TrackedRun | None:
    cur = conn.cursor(row_factory=class_row(TrackedRun))
    await cur.execute(sql("executions_tracked"), {"id": execution_id})
    return await cur.fetchone()


@dataclass(frozen=True, slots=True)
class RunEnd:
    """How a run ended, as the tracker records it in one statement."""

    execution_id: uuid.UUID
    status: ExecutionStatus
    output: Any
    error: str | None
    node_states: dict[str, Any] | None
    started_at: datetime
    finished_at: datetime
    # NOTIFYed to live streams on commit (runloom.services.live_events).
    live_payload: str
    # Statistics are counted only for a run runloom started for this row.
    counted: bool
    activities: Sequence[ActivityRun] = ()

    @property
    def duration_ms(self) -> int:
        return max(0, int((self.finished_at - self.started_at).total_seconds() * 1000))


async def record_ends(conn: Conn, ends: Sequence[RunEnd]) -> list[FinishedRun | None]:
    """`record_end` for each, sent together (one round trip on a pipelined connection)."""
    cursors = [await conn.execute(sql("executions_record_end"), _end_params(e)) for e in ends]
    return [_finished(await cur.fetchone()) for cur in cursors]


async def record_end(conn: Conn, end: RunEnd) -> FinishedRun | None:
    """Mark the run ended, NOTIFY its live streams and count its statistics, in one
    statement; None if another tracker recorded it first."""
    cur = await conn.execute(sql("executions_record_end"), _end_params(end))
    return _finished(await cur.fetchone())


def _end_params(end: RunEnd) -> dict[str, Any]:
    activities = [
        {
            "name": a.activity_name,
            "duration_ms": a.duration_ms,
            "success": a.success,
            "finished_at": a.finished_at.isoformat(),
        }
        for a in end.activities
    ]
    return {
        "id": end.execution_id,
        "status": end.status,
        "output": Jsonb(end.output) if end.output is not None else None,
        "error": end.error,
        "node_states": Jsonb(end.node_states) if end.node_states is not None else None,
        "started_at": end.started_at,
        "finished_at": end.finished_at,
        "duration_ms": end.duration_ms,
        "live_channel": naming.EXECUTION_CHANGED_CHANNEL,
        "live_payload": end.live_payload,
        "count": end.counted,
        "activities": Jsonb(activities),
    }


def _finished(row: DictRow | None) -> FinishedRun | None:
    if row is None:
        return None  # another tracker recorded it first
    version = row["code_version"]
    return FinishedRun(
        id=row["id"],
        workflow_id=row["workflow_id"],
        project_id=row["project_id"],
        code_version=int(version) if version and str(version).isdigit() else None,
    )
