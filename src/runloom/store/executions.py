"""Executions: runloom's record of each Temporal run it started or followed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import DictRow, class_row
from psycopg.types.json import Jsonb

from runloom import naming
from runloom.errors import NotFoundError
from runloom.models import Execution, ExecutionStatus
from runloom.store.queries import sql

__all__ = [
    "FinishedRun",
    "StartContext",
    "TrackedRun",
    "finish_execution",
    "get_execution",
    "get_tracked_run",
    "insert_execution",
    "list_executions",
    "open_execution_ids",
    "start_context",
]

Conn = AsyncConnection[DictRow]


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

    @property
    def workflow_type(self) -> str:
        return naming.workflow_type(self.key, self.version)


@dataclass(frozen=True, slots=True)
class TrackedRun:
    """What the tracker needs of an execution it follows."""

    id: uuid.UUID
    temporal_workflow_id: str | None
    temporal_run_id: str | None
    stats_recorded_at: datetime | None


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
        },
    )
    row = await cur.fetchone()
    assert row is not None
    return Execution.model_validate(row)


async def get_execution(conn: Conn, execution_id: uuid.UUID) -> Execution:
    row = await (await conn.execute(sql("executions_get"), {"id": execution_id})).fetchone()
    if row is None:
        raise NotFoundError(f"execution {execution_id} not found")
    return Execution.model_validate(row)


async def list_executions(
    conn: Conn,
    *,
    workflow_id: uuid.UUID | None,
    project_id: uuid.UUID | None,
    status: ExecutionStatus | None,
    limit: int,
) -> list[Execution]:
    cur = await conn.execute(
        sql("executions_list"),
        {"workflow_id": workflow_id, "project_id": project_id, "status": status, "limit": limit},
    )
    return [Execution.model_validate(row) for row in await cur.fetchall()]


async def open_execution_ids(conn: Conn) -> list[uuid.UUID]:
    cur = await conn.execute(sql("executions_open"))
    return [row["id"] for row in await cur.fetchall()]


async def get_tracked_run(conn: Conn, execution_id: uuid.UUID) -> TrackedRun | None:
    cur = conn.cursor(row_factory=class_row(TrackedRun))
    await cur.execute(sql("executions_tracked"), {"id": execution_id})
    return await cur.fetchone()


async def finish_execution(
    conn: Conn,
    *,
    execution_id: uuid.UUID,
    status: ExecutionStatus,
    output: Any,
    error: str | None,
    node_states: dict[str, Any] | None,
    started_at: datetime,
    finished_at: datetime,
    duration_ms: int,
) -> FinishedRun | None:
    """Mark the run ended; None if another tracker recorded it first."""
    cur = await conn.execute(
        sql("executions_finish"),
        {
            "id": execution_id,
            "status": status,
            "output": Jsonb(output) if output is not None else None,
            "error": error,
            "node_states": Jsonb(node_states) if node_states is not None else None,
            "finished_at": finished_at,
            "started_at": started_at,
            "duration_ms": duration_ms,
        },
    )
    row = await cur.fetchone()
    if row is None:
        return None
    version = row["code_version"]
    return FinishedRun(
        id=row["id"],
        workflow_id=row["workflow_id"],
        project_id=row["project_id"],
        code_version=int(version) if version and str(version).isdigit() else None,
    )
