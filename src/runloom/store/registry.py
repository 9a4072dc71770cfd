"""The worker registry, ``workflow_workers``: the record of every project worker and the
lock that keeps it to one active worker per project.

A row is ``starting`` → ``running`` → ``stopping`` → ``stopped``, or ``failed`` from any
of them. The unique partial index ``idx_one_active_worker_per_project`` admits one
``starting``/``running`` row per project, so inserting one is claiming the project.
``port`` stays NULL: a project worker listens on nothing, it only polls Temporal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import DictRow

from runloom.errors import ConflictError, NotFoundError
from runloom.models import WorkerStatus
from runloom.store.queries import sql

__all__ = [
    "ClaimedElsewhereError",
    "LatestWorker",
    "ProjectQueue",
    "TaskFigures",
    "claim",
    "expire_stale",
    "heartbeat",
    "latest_worker",
    "mark_running",
    "open_execution_count",
    "project_queue",
    "ready_worker_id",
    "set_status",
    "vouch",
    "wakeable_projects",
]

Conn = AsyncConnection[DictRow]


class ClaimedElsewhereError(ConflictError):
    """Another manager holds an active worker for the project."""


@dataclass(frozen=True, slots=True)
class ProjectQueue:
    project_id: UUID
    task_queue_name: str
    python_network: bool = False
    temporal_namespace: str | None = None  # None: the shared TEMPORAL_NAMESPACE


@dataclass(frozen=True, slots=True)
class LatestWorker:
    worker_id: str
    status: WorkerStatus
    metadata: dict[str, Any]
    last_heartbeat: datetime | None


@dataclass(frozen=True, slots=True)
class TaskFigures:
    """What a worker reports of itself with each heartbeat."""

    completed: int
    failed: int
    avg_task_ms: int | None = None
    cpu_percent: float | None = None
    memory_mb: int | None = None


def _json(metadata: Mapping[str, Any]) -> str:
    return json.dumps(dict(metadata), default=str)


async def project_queue(conn: Conn, project_id: UUID) -> ProjectQueue:
    cur = await conn.execute(sql("registry_project"), {"project_id": project_id})
    row = await cur.fetchone()
    if row is None:
        raise NotFoundError(f"project {project_id} does not exist")
    return ProjectQueue(
        project_id=row["id"],
        task_queue_name=row["task_queue_name"],
        python_network=row["python_network"],
        temporal_namespace=row["temporal_namespace"],
    )


async def expire_stale(
    conn: Conn,
    *,
    manager_id: str,
    stale_s: float,
    project_id: UUID | None = None,
    keep: Sequence[UUID] = (),
) -> list[UUID]:
    """Fail rows whose manager stopped heartbeating, except the rows ``keep`` names (the
    caller's own live workers); the projects they freed."""
    cur = await conn.execute(
        sql("registry_expire_stale"),
        {
            "manager_id": manager_id,
            "stale_s": stale_s,
            "project_id": project_id,
            "keep": list(keep),
        },
    )
    return sorted({row["project_id"] for row in await cur.fetchall()})


async def claim(
    conn: Conn,
    *,
    worker_id: str,
    project: ProjectQueue,
    host: str,
    metadata: Mapping[str, Any],
) -> UUID:
    """Insert the project's ``starting`` row: the claim. Its row id."""
    try:
        cur = await conn.execute(
            sql("registry_claim"),
            {
                "worker_id": worker_id,
                "project_id": project.project_id,
                "task_queue": project.task_queue_name,
                "host": host,
                "metadata": _json(metadata),
            },
        )
    except psycopg.errors.UniqueViolation:
        raise ClaimedElsewhereError(
            f"project {project.project_id} already has an active worker of another manager"
        ) from None
    row = await cur.fetchone()
    assert row is not None
    row_id: UUID = row["id"]
    return row_id


async def mark_running(
    conn: Conn, *, row_id: UUID, process_id: int, metadata: Mapping[str, Any]
) -> None:
    await conn.execute(
        sql("registry_running"),
        {"id": row_id, "process_id": str(process_id), "metadata": _json(metadata)},
    )


async def vouch(conn: Conn, row_ids: Sequence[UUID]) -> set[UUID]:
    """A manager's heartbeat for its rows; the ids still its own (the others went stale)."""
    cur = await conn.execute(sql("registry_manager_heartbeat"), {"ids": list(row_ids)})
    return {row["id"] for row in await cur.fetchall()}


async def heartbeat(
    conn: Conn, *, row_id: UUID, figures: TaskFigures, metadata: Mapping[str, Any]
) -> bool:
    """Record a worker's figures; False when the row is no longer ours."""
    cur = await conn.execute(
        sql("registry_heartbeat"),
        {
            "id": row_id,
            "cpu": figures.cpu_percent,
            "memory_mb": figures.memory_mb,
            "completed": figures.completed,
            "failed": figures.failed,
            "avg_task_ms": figures.avg_task_ms,
            "metadata": _json(metadata),
        },
    )
    return await cur.fetchone() is not None


async def set_status(
    conn: Conn,
    *,
    row_id: UUID,
    status: WorkerStatus,
    tasks: tuple[int, int],
    metadata: Mapping[str, Any],
) -> None:
    await conn.execute(
        sql("registry_set_status"),
        {
            "id": row_id,
            "status": status,
            "completed": tasks[0],
            "failed": tasks[1],
            "metadata": _json(metadata),
        },
    )


async def open_execution_count(conn: Conn, project_id: UUID) -> int:
    cur = await conn.execute(sql("registry_open_executions"), {"project_id": project_id})
    row = await cur.fetchone()
    return int(row["open"]) if row else 0


async def wakeable_projects(conn: Conn) -> list[ProjectQueue]:
    cur = await conn.execute(sql("registry_wakeable_projects"))
    return [
        ProjectQueue(
            project_id=row["id"],
            task_queue_name=row["task_queue_name"],
            temporal_namespace=row["temporal_namespace"],
        )
        for row in await cur.fetchall()
    ]


async def ready_worker_id(conn: Conn, *, project_id: UUID, workflow_type: str | None) -> str | None:
    """The project's running worker if it serves ``workflow_type`` (any if None)."""
    cur = await conn.execute(
        sql("registry_ready"), {"project_id": project_id, "workflow_type": workflow_type}
    )
    row = await cur.fetchone()
    return str(row["worker_id"]) if row else None


async def latest_worker(conn: Conn, project_id: UUID) -> LatestWorker | None:
    cur = await conn.execute(sql("registry_latest"), {"project_id": project_id})
    row = await cur.fetchone()
    if row is None:
        return None
    return LatestWorker(
        worker_id=row["worker_id"],
        status=row["status"],
        metadata=row["metadata"] or {},
        last_heartbeat=row["last_heartbeat"],
    )
