"""Per-activity figures of a finished run, derived from Temporal's history (the source of
truth), so nothing here needs the worker process. Pure; the tracker records them with
runloom.store.stats.record_execution_statistics, exactly once per execution.
"""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

from runloom import naming
from runloom.store.stats import ActivityRun


def activity_runs(events: list[HistoryEvent], *, closed_after: int = 0) -> list[ActivityRun]:
    """One entry per scheduled activity that closed (after the event ``closed_after``: a
    reset run's copied events were counted with the run they came from): its last
    attempt's duration and outcome."""
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
        elif event.event_type in closing and event.event_id > closed_after:
            field, success = closing[event.event_type]
            scheduled_id = getattr(event, field).scheduled_event_id
            name = scheduled.get(scheduled_id)
            if name is None:
                continue
            finished = event.event_time.ToDatetime(tzinfo=UTC)
            began = started.get(scheduled_id, finished)
            runs.append(
                ActivityRun(
                    activity_name=naming.statistics_activity_name(name),
                    duration_ms=max(0, int((finished - began).total_seconds() * 1000)),
                    success=success,
                    finished_at=finished,
                )
            )
    return runs
