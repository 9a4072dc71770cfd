"""Statistics of finished runs, derived from Temporal's history (the source of truth).

Nothing here needs the worker process: activity timings come from the run's events, and
every counter is incremented atomically in SQL, exactly once per execution.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

from runloom.db import sql

_VERSION_SUFFIX = re.compile(r"@v\d+(?=\.|$)")


@dataclass(frozen=True, slots=True)
class ActivityRun:
    activity_name: str
    duration_ms: int
    success: bool
    finished_at: datetime


def statistics_name(activity_type: str) -> str:
    """`orders@v3.fetch` → `orders.fetch`: figures add up across versions of a workflow."""
    return _VERSION_SUFFIX.sub("", activity_type)


def activity_runs(events: list[HistoryEvent]) -> list[ActivityRun]:
    """One entry per scheduled activity that closed: its last attempt's duration and outcome."""
    scheduled: dict[int, str] = {}
    started: dict[int, datetime] = {}
    runs: list[ActivityRun] = []
    closing = {
        EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: (
            "activity_task_completed_event_attributes",
            True,
        ),
        EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: ("activity_task_failed_event_attributes", False),
        EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: (
            "activity_task_timed_out_event_attributes",
            False,
        ),
        EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: (
            "activity_task_canceled_event_attributes",
            False,
        ),
    }
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = event.activity_task_scheduled_event_attributes
            scheduled[event.event_id] = attrs.activity_type.name
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attrs_s = event.activity_task_started_event_attributes
            started[attrs_s.scheduled_event_id] = event.event_time.ToDatetime(tzinfo=UTC)
        elif event.event_type in closing:
            field, success = closing[event.event_type]
            scheduled_id = getattr(event, field).scheduled_event_id
            name = scheduled.get(scheduled_id)
            if name is None:
                continue
            finished = event.event_time.ToDatetime(tzinfo=UTC)
            began = started.get(scheduled_id, finished)
            runs.append(
                ActivityRun(
                    activity_name=statistics_name(name),
                    duration_ms=max(0, int((finished - began).total_seconds() * 1000)),
                    success=success,
                    finished_at=finished,
                )
            )
    return runs


async def record_execution_statistics(
    conn: AsyncConnection[DictRow],
    *,
    project_id: uuid.UUID,
    workflow_id: uuid.UUID,
    code_version: str | None,
    duration_ms: int,
    success: bool,
    activities: list[ActivityRun],
) -> None:
    """Inside the transaction that marked the execution finished (so: once per execution)."""
    await conn.execute("SELECT public.increment_project_stats(%s, %s)", (project_id, duration_ms))
    await conn.execute(
        "SELECT public.increment_code_stats(%s, %s, %s, %s::varchar)",
        (workflow_id, duration_ms, success, code_version),
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
