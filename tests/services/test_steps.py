"""Step details from a run's history, node states and outputs (runloom.services.step_history),
with history events built the way Temporal writes them: no server needed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio import exceptions as temporal_errors
from temporalio.api.common.v1 import ActivityType, Payloads
from temporalio.api.enums.v1 import EventType
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import (
    ActivityTaskCompletedEventAttributes,
    ActivityTaskFailedEventAttributes,
    ActivityTaskScheduledEventAttributes,
    ActivityTaskStartedEventAttributes,
    ActivityTaskTimedOutEventAttributes,
    HistoryEvent,
)
from temporalio.converter import DataConverter
from temporalio.exceptions import ApplicationError

from runloom.compiler import CompileOptions, compile_workflow
from runloom.services import step_events, step_history
from runloom.services.step_history import RunRecord, Step, StepError

CONVERTER = DataConverter.default
T0 = datetime(2025, 12, 22, 9, 0, tzinfo=UTC)


def _payloads(value: Any) -> Payloads:
    return Payloads(payloads=CONVERTER.payload_converter.to_payloads([value]))


class History:
    """Events of one run, numbered and timed as Temporal writes them (a second apart)."""

    def __init__(self, workflow_type: str = "orders@v3") -> None:
        self.workflow_type = workflow_type
        self.events: list[HistoryEvent] = []

    def _add(self, kind: EventType.ValueType, **attrs: Any) -> int:
        event = HistoryEvent(event_id=len(self.events) + 1, event_type=kind, **attrs)
        event.event_time.FromDatetime(T0 + timedelta(seconds=len(self.events)))
        self.events.append(event)
        return event.event_id

    def scheduled(self, node_id: str, value: Any) -> int:
        return self._add(
            EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
            activity_task_scheduled_event_attributes=ActivityTaskScheduledEventAttributes(
                activity_id=str(len(self.events) + 1),
                activity_type=ActivityType(name=f"{self.workflow_type}.{node_id}"),
                input=_payloads(value),
            ),
        )

    def started(self, scheduled: int, attempt: int = 1) -> None:
        self._add(
            EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED,
            activity_task_started_event_attributes=ActivityTaskStartedEventAttributes(
                scheduled_event_id=scheduled, attempt=attempt
            ),
        )

    def completed(self, scheduled: int, envelope: Any) -> None:
        self._add(
            EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
            activity_task_completed_event_attributes=ActivityTaskCompletedEventAttributes(
                scheduled_event_id=scheduled, result=_payloads(envelope)
            ),
        )

    def failed(self, scheduled: int, failure: Failure) -> None:
        self._add(
            EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
            activity_task_failed_event_attributes=ActivityTaskFailedEventAttributes(
                scheduled_event_id=scheduled, failure=failure
            ),
        )

    def timed_out(self, scheduled: int, failure: Failure) -> None:
        self._add(
            EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
            activity_task_timed_out_event_attributes=ActivityTaskTimedOutEventAttributes(
                scheduled_event_id=scheduled, failure=failure
            ),
        )

    def calls(self, pending: dict[str, int] | None = None) -> Iterator[step_events.Call]:
        """Decoded the way runloom.services.steps decodes them."""
        for raw in step_events.raw_calls(self.events):
            failure = None
            if raw.failure is not None:
                failure = CONVERTER.failure_converter.from_failure(
                    raw.failure, CONVERTER.payload_converter
                )
            yield step_events.call_of(
                raw,
                node_id=raw.activity_type.removeprefix(f"{self.workflow_type}."),
                input=CONVERTER.payload_converter.from_payloads(raw.input.payloads)[0],
                result=None
                if raw.result is None
                else CONVERTER.payload_converter.from_payloads(raw.result.payloads)[0],
                failure=failure,
                pending_attempt=(pending or {}).get(raw.activity_id),
            )


def _failure(err: BaseException) -> Failure:
    failure = Failure()
    CONVERTER.failure_converter.to_failure(err, CONVERTER.payload_converter, failure)
    return failure


def _record(**changes: Any) -> RunRecord:
    base: dict[str, Any] = {
        "node_types": {},
        "states": {},
        "outputs": {},
        "omitted": {},
        "run_input": {"n": 1},
    }
    return RunRecord(**{**base, **changes})


def _state(status: str, start: int, end: int | None = None, error: str | None = None) -> Any:
    finished = None if end is None else (T0 + timedelta(seconds=end)).isoformat()
    started = (T0 + timedelta(seconds=start)).isoformat()
    return {"status": status, "started_at": started, "finished_at": finished, "error": error}


def test_a_completed_python_call_shows_its_input_output_logs_attempts_and_times() -> None:
    history = History()
    scheduled = history.scheduled("calc", {"input": {"n": 1}, "steps": {}})
    history.started(scheduled, attempt=2)
    history.completed(scheduled, {"output": {"total": 6}, "attempt": 2, "logs": "a\nb\n"})
    [step] = step_history.assemble(_record(node_types={"calc": "python"}), list(history.calls()))
    assert step == Step(
        node_id="calc",
        type="python",
        status="completed",
        input={"input": {"n": 1}, "steps": {}},
        output={"total": 6},
        attempts=2,
        started_at=T0,
        finished_at=T0 + timedelta(seconds=2),
        logs=("a", "b"),
    )
    assert step.duration_ms == 2000


def test_a_failed_python_call_carries_its_traceback_and_logs_from_the_details() -> None:
    history = History()
    scheduled = history.scheduled("boom", {"input": {}})
    history.started(scheduled)
    trace = ["Traceback (most recent call last):", "  File \"<python node 'boom'>\", line 2"]
    details = {"logs": "before\n", "traceback": [*trace, "ValueError: no"]}
    history.failed(
        scheduled, _failure(ApplicationError("ValueError: no", details, type="ValueError"))
    )
    [step] = step_history.assemble(_record(), list(history.calls()))
    assert (step.status, step.output, step.logs) == ("failed", None, ("before",))
    assert step.error == StepError(
        type="ValueError", message="ValueError: no", traceback=(*trace, "ValueError: no")
    )


def test_http_logs_are_kept_line_by_line_and_a_timeout_reads_its_cause() -> None:
    history = History()
    first = history.scheduled("fetch", {"method": "GET", "url": "https://x.test/a"})
    history.started(first)
    history.completed(
        first, {"output": {"status": 200}, "logs": ["GET https://x.test/a -> 200 (3 ms)"]}
    )
    second = history.scheduled("slow", {"method": "GET", "url": "https://x.test/b"})
    history.started(second, attempt=3)
    cause = ApplicationError("boom", {"logs": ["GET https://x.test/b -> 500 (9 ms)"]})
    late = temporal_errors.TimeoutError(
        "activity ScheduleToClose timeout",
        type=temporal_errors.TimeoutType.SCHEDULE_TO_CLOSE,
        last_heartbeat_details=[],
    )
    late.__cause__ = cause
    history.timed_out(second, _failure(late))
    fetch, slow = step_history.assemble(_record(), list(history.calls()))
    assert fetch.logs == ("GET https://x.test/a -> 200 (3 ms)",)
    assert (slow.status, slow.attempts, slow.logs) == (
        "failed",
        3,
        ("GET https://x.test/b -> 500 (9 ms)",),
    )
    assert slow.error is not None and slow.error.type == "TimeoutError"
    assert "timeout" in slow.error.message


def test_a_running_activity_shows_the_attempt_temporal_reports() -> None:
    history = History()
    scheduled = history.scheduled("fetch", {"url": "https://x.test"})
    activity_id = history.events[scheduled - 1].activity_task_scheduled_event_attributes.activity_id
    [step] = step_history.assemble(_record(), list(history.calls(pending={activity_id: 4})))
    assert (step.status, step.attempts, step.finished_at, step.duration_ms) == (
        "running",
        4,
        None,
        None,
    )


def test_workflow_side_nodes_come_from_states_and_kept_outputs() -> None:
    record = _record(
        node_types={
            "start": "start",
            "shape": "transform",
            "gate": "condition",
            "no": "transform",
            "end": "end",
        },
        states={
            "start": _state("completed", 0, 0),
            "shape": _state("completed", 1, 1),
            "gate": _state("failed", 2, 3, error="'x' is undefined"),
            "no": _state("skipped", 3, 3),
            "end": _state("pending", 0),
        },
        outputs={"shape": {"total": 2}},
    )
    steps = step_history.assemble(record, [])
    assert [(s.node_id, s.status) for s in steps] == [
        ("start", "completed"),
        ("shape", "completed"),
        ("gate", "failed"),
    ]
    start, shape, gate = steps
    assert (start.input, start.output) == ({"n": 1}, {"n": 1})
    assert (shape.output, shape.attempts, shape.duration_ms, shape.truncated) == (
        {"total": 2},
        1,
        0,
        False,
    )
    assert gate.error == StepError(type="NodeFailed", message="'x' is undefined")


def test_an_output_too_big_for_the_memo_is_said_to_be_missing() -> None:
    record = _record(
        node_types={"big": "transform", "end": "end"},
        states={"big": _state("completed", 1, 2), "end": _state("completed", 2, 2)},
        omitted={"big": 500_000},
        run_output={"done": True},
        completed=True,
    )
    big, end = step_history.assemble(record, [])
    assert (big.output, big.truncated) == (None, True)
    assert big.output_missing is not None and "500000 bytes" in big.output_missing
    assert (end.output, end.output_missing) == ({"done": True}, None)  # the run's output


def test_for_each_items_follow_their_node_in_index_order() -> None:
    history = History()
    events = []
    for index in (1, 0):  # scheduled out of order on purpose
        events.append((index, history.scheduled("square", {"item": index + 2, "index": index})))
    for index, scheduled in events:
        history.started(scheduled)
        history.completed(scheduled, {"output": (index + 2) ** 2, "attempt": 1})
    record = _record(
        node_types={"start": "start", "square": "for_each"},
        states={"start": _state("completed", 0, 0), "square": _state("completed", 0, 5)},
        omitted={"square": 999_999},  # too big for the memo: the items still tell it
    )
    start, node, first, second = step_history.assemble(record, list(history.calls()))
    assert start.node_id == "start"
    assert (node.node_id, node.item_index, node.output, node.truncated) == (
        "square",
        None,
        [4, 9],
        False,
    )
    assert [(s.item_index, s.input["item"], s.output) for s in (first, second)] == [
        (0, 2, 4),
        (1, 3, 9),
    ]


def test_an_activity_node_the_workflow_failed_after_it_returned_is_failed() -> None:
    history = History()
    scheduled = history.scheduled("calc", {})
    history.started(scheduled)
    history.completed(scheduled, {"output": "x" * 10, "attempt": 1})
    record = _record(states={"calc": _state("failed", 0, 3, error="its output is 2000000 bytes")})
    [step] = step_history.assemble(record, list(history.calls()))
    assert step.status == "failed" and step.error is not None
    assert "2000000 bytes" in step.error.message


def test_values_over_the_limit_are_cut_and_flagged() -> None:
    step = Step(
        node_id="n", type="python", status="completed", input={"a": 1}, output={"big": "y" * 5000}
    )
    cut = step_history.cut_values(step, max_bytes=1024)
    assert cut.truncated and cut.input == {"a": 1}
    assert (
        isinstance(cut.output, str)
        and cut.output.startswith('{"big":"yyy')
        and cut.output.endswith("…")
    )
    assert len(cut.output.encode()) <= 1024 + len("…".encode())
    assert step_history.cut_values(step, max_bytes=10_000) is step


def test_node_types_are_read_from_the_version_that_ran() -> None:
    graph = {
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "calc",
                "type": "python",
                "label": "Add up: the total.",
                "config": {"code": "return 1"},
            },
            {
                "id": "each",
                "type": "for_each",
                "config": {
                    "items": "input.xs",
                    "step": {"type": "python", "config": {"code": "return item"}},
                },
            },
            {"id": "end", "type": "end"},
        ],
        "edges": [
            {"source": "start", "target": "calc"},
            {"source": "calc", "target": "each"},
            {"source": "each", "target": "end"},
        ],
    }
    compiled = compile_workflow(graph, workflow_key="orders", version=3)
    types = step_history.node_types(compiled.workflow_code)
    assert list(types.items()) == [
        ("start", "start"),
        ("calc", "python"),
        ("each", "for_each"),
        ("end", "end"),
    ]
    bare = compile_workflow(
        graph, workflow_key="orders", version=3, options=CompileOptions(include_comments=False)
    )
    assert step_history.node_types(bare.workflow_code) == {}  # then the graph is used
    assert step_history.graph_node_types(graph)["each"] == "for_each"
    assert step_history.node_types("def (") == {}


@pytest.mark.parametrize("workflow_type", ["orders@v3", None])
def test_the_workflow_type_is_read_from_the_first_event(workflow_type: str | None) -> None:
    from temporalio.api.common.v1 import WorkflowType
    from temporalio.api.history.v1 import WorkflowExecutionStartedEventAttributes

    events = []
    if workflow_type is not None:
        events.append(
            HistoryEvent(
                event_id=1,
                event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
                workflow_execution_started_event_attributes=WorkflowExecutionStartedEventAttributes(
                    workflow_type=WorkflowType(name=workflow_type)
                ),
            )
        )
    assert step_events.workflow_type_of(events) == workflow_type
