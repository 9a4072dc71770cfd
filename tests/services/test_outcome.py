"""How a run ended, in runloom's words: the tracker's pure parsing of Temporal's answers."""

from __future__ import annotations

import pytest
from temporalio import exceptions as temporal_errors
from temporalio.api.enums.v1 import EventType, RetryState, TimeoutType
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent, WorkflowExecutionFailedEventAttributes
from temporalio.client import WorkflowFailureError

from runloom.services.outcome import Outcome, last_failure_message, outcome_of_failure


def _activity_error(cause: BaseException) -> temporal_errors.ActivityError:
    error = temporal_errors.ActivityError(
        "Activity task failed",
        scheduled_event_id=5,
        started_event_id=6,
        identity="w",
        activity_type="orders@v1.score",
        activity_id="1",
        retry_state=RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED,
    )
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("cause", "status"),
    [
        (temporal_errors.CancelledError("cancelled by a person"), "cancelled"),
        (temporal_errors.TerminatedError("terminated by a person", []), "terminated"),
        (
            temporal_errors.TimeoutError(
                "run timed out",
                type=temporal_errors.TimeoutType(TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE),
                last_heartbeat_details=[],
            ),
            "timed_out",
        ),
        (temporal_errors.ApplicationError("boom"), "failed"),
    ],
)
def test_status_of_each_way_to_end(cause: BaseException, status: str) -> None:
    assert outcome_of_failure(WorkflowFailureError(cause=cause)).status == status


def test_the_message_is_the_users_error_not_temporals_wrapping() -> None:
    user = temporal_errors.ApplicationError("ZeroDivisionError: division by zero")
    outcome = outcome_of_failure(WorkflowFailureError(cause=_activity_error(user)))
    assert outcome == Outcome("failed", None, "ZeroDivisionError: division by zero")


def test_the_last_failure_event_names_the_error() -> None:
    events = [
        HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
        HistoryEvent(
            event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
            workflow_execution_failed_event_attributes=WorkflowExecutionFailedEventAttributes(
                failure=Failure(message="node 'fetch' failed")
            ),
        ),
    ]
    assert last_failure_message(events) == "node 'fetch' failed"
    assert last_failure_message(events[:1]) is None
