"""How a run ended, in runloom's words, from what Temporal reports (no I/O; a run's
history, memo and times are read by `run_history`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from temporalio import exceptions as temporal_errors
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowFailureError

from runloom.models import ExecutionStatus

__all__ = [
    "Outcome",
    "describe_failure",
    "last_failure_message",
    "last_reset_event_id",
    "outcome_of_failure",
]


@dataclass(frozen=True, slots=True)
class Outcome:
    status: ExecutionStatus
    output: Any
    error: str | None


def describe_failure(exc: BaseException) -> str:
    """The innermost message a person can act on: the user's error, not Temporal's wrapping."""
    cause: BaseException | None = exc
    message = str(exc)
    while cause is not None:
        # Activity and child-workflow errors only wrap the failure that matters.
        if isinstance(cause, temporal_errors.FailureError) and not isinstance(
            cause, temporal_errors.ActivityError | temporal_errors.ChildWorkflowError
        ):
            message = cause.message or message
        cause = cause.__cause__
    return message


def outcome_of_failure(exc: WorkflowFailureError) -> Outcome:
    cause = exc.cause
    status: ExecutionStatus
    if isinstance(cause, temporal_errors.CancelledError):
        status = "cancelled"
    elif isinstance(cause, temporal_errors.TerminatedError):
        status = "terminated"
    elif isinstance(cause, temporal_errors.TimeoutError):
        status = "timed_out"
    else:
        status = "failed"
    return Outcome(status=status, output=None, error=describe_failure(cause or exc))


def last_failure_message(events: Sequence[HistoryEvent]) -> str | None:
    for event in reversed(events):
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
            return str(event.workflow_execution_failed_event_attributes.failure.message)
    return None


def last_reset_event_id(events: Sequence[HistoryEvent]) -> int:
    """Where the run's own history begins, if it is a reset run (a retry): the id of the
    last workflow task failed by a reset; 0 for a run that was never reset. Events before
    it were copied from the run it was reset from, which counted them already."""
    for event in reversed(events):
        if (
            event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
            and event.workflow_task_failed_event_attributes.cause
            == WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW
        ):
            return int(event.event_id)
    return 0
