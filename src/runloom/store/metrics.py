"""What the metrics endpoints read from the database: cheap aggregates, once a scrape.

Runs started and ended come from ``run_counters``, which triggers on
``workflow_executions`` keep (migration 20251226001305): every API process and manager
reports the same totals, whichever of them started or recorded a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from runloom.store.queries import sql

__all__ = [
    "RunCount",
    "WorkerPort",
    "record_worker_port",
    "run_counts",
    "worker_states",
]

Conn = AsyncConnection[DictRow]


@dataclass(frozen=True, slots=True)
class RunCount:
    project_id: UUID
    # "started", or the status the runs ended with
    event: str
    triggered_by: str
    count: int


@dataclass(frozen=True, slots=True)
class WorkerPort:
    """A worker row that was given a metrics port."""

    project_id: UUID
    restart: bool


async def run_counts(conn: Conn) -> list[RunCount]:
    cur = await conn.execute(sql("metrics_run_counts"))
    return [
        RunCount(
            project_id=row["project_id"],
            event=row["event"],
            triggered_by=row["triggered_by"],
            count=int(row["count"]),
        )
        for row in await cur.fetchall()
    ]


async def worker_states(conn: Conn) -> dict[str, int]:
    """Projects by the state of their current worker: starting, running, stopping,
    stopped, idle or crashed (projects that never had a worker are not counted)."""
    cur = await conn.execute(sql("metrics_worker_states"))
    return {row["state"]: int(row["count"]) for row in await cur.fetchall()}


async def record_worker_port(conn: Conn, *, row_id: UUID, port: int) -> WorkerPort | None:
    """Record where the worker of registry row ``row_id`` serves its SDK metrics; None
    when the row is gone."""
    cur = await conn.execute(sql("metrics_worker_port"), {"id": row_id, "port": port})
    row = await cur.fetchone()
    if row is None:
        return None
    return WorkerPort(project_id=row["project_id"], restart=bool(row["restart"]))
