"""A run's history, read once it has closed: a long poll for its close event, then one
read of the whole history, give how it ended, when it started and closed, its memo (the
started event's, with every upsert after it) and its activities. Following a run to its
end costs Temporal two reads whatever the run's length, and no describe.

Conversions match the SDK's ``WorkflowHandle.result`` (same data converter, same
exceptions), so a run's recorded status and error are what ``result()`` would say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from temporalio import exceptions as temporal_errors
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowFailureError, WorkflowHistoryEventFilterType
from temporalio.converter import DataConverter

from runloom import naming
from runloom.services import outcome as outcomes
from runloom.services.outcome import Outcome

__all__ = ["RunHistory", "read_to_close"]


@dataclass(frozen=True, slots=True)
class RunHistory:
    """A closed run, from its history. ``start_time``/``close_time`` are named as in a
    workflow description: a reset run (a retry) starts at its reset."""

    events: Sequence[HistoryEvent]
    outcome: Outcome
    start_time: datetime
    close_time: datetime
    memo: dict[str, Payload]

    @property
    def reset_event_id(self) -> int:
        return outcomes.last_reset_event_id(self.events)

    async def memo_value(self, key: str, converter: DataConverter) -> Any:
        payload = self.memo.get(key)
        if payload is None:
            return None
        try:
            return (await converter.decode([payload]))[0]
        except Exception:  # a memo runloom did not write, in a shape it cannot read
            return None

    async def memo_execution_id(self, converter: DataConverter) -> str | None:
        value = await self.memo_value(naming.MEMO_EXECUTION_ID, converter)
        return value if isinstance(value, str) else None

    async def memo_node_states(self, converter: DataConverter) -> dict[str, Any] | None:
        value = await self.memo_value(naming.NODE_STATES_MEMO, converter)
        return value if isinstance(value, dict) else None


async def read_to_close(client: Client, *, workflow_id: str, run_id: str | None) -> RunHistory:
    """Wait for the run to close (following a continued or retried run to the last one)
    and return its history. RPCError as the SDK raises it (NOT_FOUND: no such run)."""
    while True:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        # Two reads whatever the run's length: a long poll for the close event alone (a
        # poll of every event would answer once per workflow task), then the history.
        closes = handle.fetch_history_events(
            wait_new_event=True, event_filter_type=WorkflowHistoryEventFilterType.CLOSE_EVENT
        )
        close = [e async for e in closes][-1]
        following = _next_run_id(close)
        if following:
            run_id = following
            continue
        events = [e async for e in handle.fetch_history_events()]
        outcome = await _outcome(close, client.data_converter)
        if outcome.status == "failed" and outcome.error is None:
            outcome = Outcome("failed", None, outcomes.last_failure_message(events))
        return RunHistory(
            events=events,
            outcome=outcome,
            start_time=_start_time(events),
            close_time=close.event_time.ToDatetime(tzinfo=UTC),
            memo=_memo(events),
        )


def _next_run_id(close: HistoryEvent) -> str:
    for field in (
        "workflow_execution_completed_event_attributes",
        "workflow_execution_failed_event_attributes",
        "workflow_execution_timed_out_event_attributes",
        "workflow_execution_continued_as_new_event_attributes",
    ):
        if close.HasField(field):
            return str(getattr(close, field).new_execution_run_id)
    return ""


async def _outcome(close: HistoryEvent, converter: DataConverter) -> Outcome:
    if close.HasField("workflow_execution_completed_event_attributes"):
        results = await converter.decode_wrapper(
            close.workflow_execution_completed_event_attributes.result
        )
        return Outcome("completed", results[0] if results else None, None)
    cause: BaseException
    if close.HasField("workflow_execution_failed_event_attributes"):
        failure = close.workflow_execution_failed_event_attributes.failure
        cause = await converter.decode_failure(failure)
    elif close.HasField("workflow_execution_canceled_event_attributes"):
        details = close.workflow_execution_canceled_event_attributes.details
        cause = temporal_errors.CancelledError(
            "Workflow cancelled", *(await converter.decode_wrapper(details))
        )
    elif close.HasField("workflow_execution_terminated_event_attributes"):
        attrs = close.workflow_execution_terminated_event_attributes
        cause = temporal_errors.TerminatedError(
            attrs.reason or "Workflow terminated", *(await converter.decode_wrapper(attrs.details))
        )
    elif close.HasField("workflow_execution_timed_out_event_attributes"):
        cause = temporal_errors.TimeoutError(
            "Workflow timed out",
            type=temporal_errors.TimeoutType.START_TO_CLOSE,
            last_heartbeat_details=[],
        )
    else:
        raise RuntimeError(f"the run's history ends with no close event ({close.event_type})")
    return outcomes.outcome_of_failure(WorkflowFailureError(cause=cause))


def _start_time(events: Sequence[HistoryEvent]) -> datetime:
    """When this run began: its first event, or for a reset run the reset (the events
    before it were copied from the run it was reset from)."""
    reset = outcomes.last_reset_event_id(events)
    first = next((e for e in events if e.event_id == reset), events[0]) if reset else events[0]
    return first.event_time.ToDatetime(tzinfo=UTC)


def _memo(events: Sequence[HistoryEvent]) -> dict[str, Payload]:
    """The run's memo at its close: the started event's, then each upsert in order."""
    memo: dict[str, Payload] = {}
    for event in events:
        if event.HasField("workflow_execution_started_event_attributes"):
            memo.update(event.workflow_execution_started_event_attributes.memo.fields)
        elif event.HasField("workflow_properties_modified_event_attributes"):
            memo.update(event.workflow_properties_modified_event_attributes.upserted_memo.fields)
    return memo
