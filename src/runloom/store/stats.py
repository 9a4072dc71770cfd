"""Project statistics: counters kept by the tracker, plus figures over recent executions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from pydantic import BaseModel

from runloom.store.projects import get_project
from runloom.store.queries import sql


@dataclass(frozen=True, slots=True)
class ActivityRun:
    """One activity of a finished run, as its history tells it."""

    activity_name: str
    duration_ms: int
    success: bool
    finished_at: datetime


# Upper bounds of the run-duration histogram, in ms; the last bucket catches everything.
DURATION_BOUNDS_MS = [100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 2**62]
TOP_ACTIVITIES = 10


class ProjectFigures(BaseModel):
    total_workflow_executions: int
    total_activity_executions: int
    avg_execution_duration_ms: int
    success_rate: float | None
    last_execution_at: datetime | None


class WorkflowFigures(BaseModel):
    workflow_id: uuid.UUID
    name: str
    key: str
    execution_count: int
    error_count: int
    avg_execution_duration_ms: int
    last_executed_at: datetime | None


class ActivityFigures(BaseModel):
    activity_name: str
    execution_count: int
    success_count: int
    failure_count: int
    avg_duration_ms: int
    p95_duration_ms: int | None
    p99_duration_ms: int | None
    last_executed_at: datetime | None
    requires_dedicated_worker: bool | None


class TimeBucket(BaseModel):
    bucket: datetime
    completed: int
    failed: int


class DurationBucket(BaseModel):
    le_ms: int | None
    count: int


class ProjectStatistics(BaseModel):
    project: ProjectFigures
    workflows: list[WorkflowFigures]
    activities: list[ActivityFigures]
    top_activities: list[ActivityFigures]
    executions_over_time: list[TimeBucket]
    duration_histogram: list[DurationBucket]


async def _rows(conn: AsyncConnection[DictRow], name: str, params: dict[str, Any]) -> list[DictRow]:
    return await (await conn.execute(sql(name), params)).fetchall()


async def project_statistics(
    conn: AsyncConnection[DictRow], project_id: uuid.UUID, *, hours: int = 24
) -> ProjectStatistics:
    project = await get_project(conn, project_id)
    params = {"project_id": project_id}
    rate = (await _rows(conn, "stats_success_rate", params))[0]
    activities = [
        ActivityFigures.model_validate(r) for r in await _rows(conn, "stats_activities", params)
    ]
    histogram = await _rows(
        conn, "stats_duration_histogram", {**params, "bounds": DURATION_BOUNDS_MS}
    )
    return ProjectStatistics(
        project=ProjectFigures(
            total_workflow_executions=project.total_workflow_executions or 0,
            total_activity_executions=project.total_activity_executions or 0,
            avg_execution_duration_ms=project.avg_execution_duration_ms or 0,
            success_rate=(rate["completed"] / rate["finished"]) if rate["finished"] else None,
            last_execution_at=project.last_execution_at,
        ),
        workflows=[
            WorkflowFigures.model_validate(r) for r in await _rows(conn, "stats_workflows", params)
        ],
        activities=activities,
        top_activities=activities[:TOP_ACTIVITIES],
        executions_over_time=[
            TimeBucket.model_validate(r)
            for r in await _rows(conn, "stats_executions_over_time", {**params, "hours": hours})
        ],
        duration_histogram=[
            DurationBucket(le_ms=r["le_ms"] if r["le_ms"] < 2**62 else None, count=r["count"])
            for r in histogram
        ],
    )


async def record_execution_statistics(
    conn: AsyncConnection[DictRow],
    *,
    project_id: uuid.UUID,
    workflow_id: uuid.UUID,
    code_version: int | None,
    duration_ms: int,
    success: bool,
    activities: Sequence[ActivityRun],
) -> None:
    """Inside the transaction that marked the execution finished (so: once per execution)."""
    await conn.execute("SELECT public.increment_project_stats(%s, %s)", (project_id, duration_ms))
    await conn.execute(
        "SELECT public.increment_code_stats(%s, %s, %s, %s::varchar)",
        (workflow_id, duration_ms, success, None if code_version is None else str(code_version)),
    )
    for run in activities:
        await conn.execute(
            "SELECT public.record_activity_execution(%s, %s, %s, %s, %s)",
            (project_id, run.activity_name, run.duration_ms, run.success, run.finished_at),
        )
    if activities:
        await conn.execute(
            sql("stats_add_activity_executions"),
            {"project_id": project_id, "count": len(activities)},
        )
