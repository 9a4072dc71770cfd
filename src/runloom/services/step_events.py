"""A run's activities as its Temporal history holds them, decoded into calls. Pure: the
caller (:mod:`runloom.services.steps`) decodes payloads with its client's data
converter; :mod:`runloom.services.step_history` turns calls into steps.

An activity's events: Scheduled (its input), Started (written when the attempt closes,
with its number), Completed (the runtime's envelope: ``{"output", "attempt", "logs"?}``),
Failed or TimedOut (the failure; its details carry the logs and, for python nodes, the
traceback through the user's code), Canceled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from temporalio.api.common.v1 import Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.exceptions import ApplicationError, FailureError

__all__ = [
    "Call",
    "CallStatus",
    "RawCall",
    "StepError",
    "call_of",
    "raw_calls",
    "workflow_type_of",
]

CallStatus = Literal["running", "completed", "failed"]


@dataclass(frozen=True, kw_only=True)
class StepError:
    type: str
    message: str
    traceback: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RawCall:
    """One scheduled activity as its events hold it, payloads still encoded."""

    activity_id: str
    activity_type: str
    scheduled_at: datetime
    input: Payloads
    status: CallStatus = "running"
    attempt: int | None = None
    closed_at: datetime | None = None
    result: Payloads | None = None
    failure: Failure | None = None
    cancelled: bool = False


def _time(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime(tzinfo=UTC)


def _closing(event: HistoryEvent) -> tuple[int, dict[str, Any]] | None:
    """The scheduled event an activity's closing event refers to, and what it says."""
    kind = event.event_type
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
        done = event.activity_task_completed_event_attributes
        return done.scheduled_event_id, {"status": "completed", "result": done.result}
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        failed = event.activity_task_failed_event_attributes
        return failed.scheduled_event_id, {"status": "failed", "failure": failed.failure}
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
        late = event.activity_task_timed_out_event_attributes
        return late.scheduled_event_id, {"status": "failed", "failure": late.failure}
    if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
        gone = event.activity_task_canceled_event_attributes
        return gone.scheduled_event_id, {"status": "failed", "cancelled": True}
    return None


def raw_calls(events: Iterable[HistoryEvent]) -> list[RawCall]:
    """Every activity the run scheduled, in the order it did."""
    calls: dict[int, RawCall] = {}
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attrs = event.activity_task_scheduled_event_attributes
            calls[event.event_id] = RawCall(
                activity_id=attrs.activity_id,
                activity_type=attrs.activity_type.name,
                scheduled_at=_time(event),
                input=attrs.input,
            )
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started = event.activity_task_started_event_attributes
            call = calls.get(started.scheduled_event_id)
            if call is not None:  # Temporal writes it when the attempt closes
                calls[started.scheduled_event_id] = dataclasses.replace(
                    call, attempt=started.attempt
                )
        elif (closing := _closing(event)) is not None:
            scheduled_id, changes = closing
            call = calls.get(scheduled_id)
            if call is not None:
                calls[scheduled_id] = dataclasses.replace(call, closed_at=_time(event), **changes)
    return list(calls.values())


def workflow_type_of(events: Sequence[HistoryEvent]) -> str | None:
    for event in events[:1]:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            return str(event.workflow_execution_started_event_attributes.workflow_type.name)
    return None


@dataclass(frozen=True, kw_only=True)
class Call:
    """One activity of a node, decoded."""

    node_id: str
    status: CallStatus
    input: Any
    started_at: datetime
    output: Any = None
    error: StepError | None = None
    logs: tuple[str, ...] = ()
    attempts: int | None = None
    finished_at: datetime | None = None
    item_index: int | None = None


def _log_lines(value: Any) -> tuple[str, ...]:
    # python nodes capture text; http nodes keep a line per request.
    if isinstance(value, str):
        return tuple(value.splitlines())
    if isinstance(value, list | tuple):
        return tuple(str(line) for line in value)
    return ()


def _error(failure: BaseException) -> tuple[StepError, tuple[str, ...]]:
    """What failed, and the logs the failure carries (in its, or its cause's, details)."""
    carrier: BaseException | None = failure
    if not isinstance(failure, ApplicationError) and isinstance(
        failure.__cause__, ApplicationError
    ):
        carrier = failure.__cause__  # a timeout, with the last attempt's failure as cause
    extra: Mapping[str, Any] = {}
    if isinstance(carrier, ApplicationError) and carrier.details:
        first = carrier.details[0]
        extra = first if isinstance(first, Mapping) else {}
    kind = failure.type if isinstance(failure, ApplicationError) else None
    message = failure.message if isinstance(failure, FailureError) else str(failure)
    trace = extra.get("traceback")
    error = StepError(
        type=kind or type(failure).__name__,
        message=message,
        traceback=tuple(str(line) for line in trace) if isinstance(trace, list) else (),
    )
    return error, _log_lines(extra.get("logs"))


def call_of(
    raw: RawCall,
    *,
    node_id: str,
    input: Any,
    result: Any,
    failure: BaseException | None,
    pending_attempt: int | None = None,
) -> Call:
    """A call with its payloads decoded (``result`` is the runtime's envelope:
    ``{"output", "attempt", "logs"?}``); ``pending_attempt`` is the attempt Temporal
    reports of an activity still running."""
    envelope = result if isinstance(result, Mapping) else {"output": result}
    error: StepError | None = None
    logs = _log_lines(envelope.get("logs"))
    if failure is not None:
        error, logs = _error(failure)
    elif raw.cancelled:
        error = StepError(type="CancelledError", message="the activity was cancelled")
    index = input.get("index") if isinstance(input, Mapping) else None
    return Call(
        node_id=node_id,
        status=raw.status,
        input=input,
        started_at=raw.scheduled_at,
        output=envelope.get("output") if raw.status == "completed" else None,
        error=error,
        logs=logs,
        attempts=raw.attempt or pending_attempt,
        finished_at=raw.closed_at,
        item_index=index if isinstance(index, int) and not isinstance(index, bool) else None,
    )
