"""Where a retry continues a run from, read from its Temporal history (pure)."""

from __future__ import annotations

import pytest
from temporalio.api.common.v1 import ActivityType
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import (
    ActivityTaskCompletedEventAttributes,
    ActivityTaskFailedEventAttributes,
    ActivityTaskScheduledEventAttributes,
    ActivityTaskTimedOutEventAttributes,
    HistoryEvent,
    WorkflowTaskFailedEventAttributes,
)

from runloom.errors import ConflictError
from runloom.manager.statistics import activity_runs
from runloom.services.outcome import last_reset_event_id
from runloom.services.recovery import ResetPoint, reset_point

E = EventType


class History:
    """Events numbered as Temporal numbers them, written the way a run makes them."""

    def __init__(self) -> None:
        self.events: list[HistoryEvent] = []
        self.add(E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)

    def add(self, kind: EventType.ValueType, **attributes: object) -> int:
        event_id = len(self.events) + 1
        self.events.append(HistoryEvent(event_id=event_id, event_type=kind, **attributes))  # type: ignore[arg-type]
        return event_id

    def task(self) -> int:
        """A workflow task: scheduled, started, completed; the completed event's id."""
        self.add(E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED)
        self.add(E.EVENT_TYPE_WORKFLOW_TASK_STARTED)
        return self.add(E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)

    def schedule(self, node: str, *, by: int) -> int:
        return self.add(
            E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
            activity_task_scheduled_event_attributes=ActivityTaskScheduledEventAttributes(
                activity_type=ActivityType(name=f"orders@v2.{node}"),
                workflow_task_completed_event_id=by,
            ),
        )

    def complete(self, scheduled: int) -> int:
        return self.add(
            E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
            activity_task_completed_event_attributes=ActivityTaskCompletedEventAttributes(
                scheduled_event_id=scheduled
            ),
        )

    def fail(self, scheduled: int) -> int:
        return self.add(
            E.EVENT_TYPE_ACTIVITY_TASK_FAILED,
            activity_task_failed_event_attributes=ActivityTaskFailedEventAttributes(
                scheduled_event_id=scheduled
            ),
        )


def test_a_failed_step_is_retried_from_the_task_that_first_scheduled_it() -> None:
    h = History()
    first = h.task()
    h.complete(h.schedule("prepare", by=first))
    second = h.task()
    h.fail(h.schedule("call", by=second))
    h.task()
    h.add(E.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED)
    assert reset_point(h.events) == ResetPoint(second, "orders@v2.call")


def test_the_step_that_failed_last_is_the_one_retried() -> None:
    # "check" failed first and the graph went on (its failure was handled); "call"
    # ended the run, so the run goes back to just before "call", keeping "check".
    h = History()
    first = h.task()
    h.fail(h.schedule("check", by=first))
    second = h.task()
    h.add(
        E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
        activity_task_timed_out_event_attributes=ActivityTaskTimedOutEventAttributes(
            scheduled_event_id=h.schedule("call", by=second)
        ),
    )
    h.task()
    assert reset_point(h.events) == ResetPoint(second, "orders@v2.call")


def test_every_item_of_a_failed_step_runs_again() -> None:
    h = History()
    first = h.task()
    h.complete(h.schedule("each", by=first))
    later = h.task()
    h.fail(h.schedule("each", by=later))
    assert reset_point(h.events) == ResetPoint(first, "orders@v2.each")


def test_a_run_stopped_between_steps_continues_from_its_last_task() -> None:
    h = History()
    h.task()
    last = h.task()
    h.add(E.EVENT_TYPE_TIMER_STARTED)
    h.add(E.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED)
    assert reset_point(h.events) == ResetPoint(last, None)


def test_a_cancelled_run_continues_from_before_the_cancel_request() -> None:
    h = History()
    before = h.task()
    h.schedule("call", by=before)
    h.add(E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED)
    h.task()
    h.add(E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED)
    assert reset_point(h.events) == ResetPoint(before, None)


def test_a_run_without_a_completed_task_has_nothing_to_continue() -> None:
    h = History()
    h.add(E.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED)
    with pytest.raises(ConflictError, match="re-run"):
        reset_point(h.events)


def test_a_reset_runs_copied_steps_are_not_counted_again() -> None:
    h = History()
    first = h.task()
    h.complete(h.schedule("prepare", by=first))
    second = h.task()
    call = h.schedule("call", by=second)
    assert last_reset_event_id(h.events) == 0
    marker = h.add(
        E.EVENT_TYPE_WORKFLOW_TASK_FAILED,
        workflow_task_failed_event_attributes=WorkflowTaskFailedEventAttributes(
            cause=WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW
        ),
    )
    h.complete(call)
    assert last_reset_event_id(h.events) == marker
    counted = activity_runs(h.events, closed_after=marker)
    assert [(r.activity_name, r.success) for r in counted] == [("orders.call", True)]
    assert len(activity_runs(h.events)) == 2
