"""Error edges in the graph runtime: a failure taken down its error edge, the skips and
joins around it, and who sees `error`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.exceptions import ActivityError, ApplicationError, RetryState

from runloom_runtime.graph import Branch, GraphRun, failure_type
from runloom_runtime.templates import TemplateEvaluationError


def _run(node_ids: list[str]) -> GraphRun:
    return GraphRun(node_ids, now=lambda: datetime(2025, 1, 1, tzinfo=UTC))


def _const(value: Any) -> Any:
    async def body() -> Any:
        return value

    return body


def _failing(message: str = "ValueError: card declined", kind: str = "ValueError") -> Any:
    async def body() -> Any:
        raise ApplicationError(message, type=kind)

    return body


def _scope_of(run: GraphRun, seen: dict[str, Any], name: str) -> Any:
    async def body() -> Any:
        await asyncio.sleep(0)  # let other nodes interleave: values must not leak
        seen[name] = run.scope()
        return name

    return body


def _statuses(run: GraphRun) -> dict[str, str]:
    return {k: v["status"] for k, v in run.node_states().items()}


async def test_a_failure_with_an_error_edge_takes_it_and_the_run_goes_on() -> None:
    run = _run(["start", "charge", "receipt", "apologise", "end"])
    seen: dict[str, Any] = {}
    run.spawn("start", _const("s"))
    run.spawn("charge", _failing(), after=[("start", None)])
    run.spawn("receipt", _scope_of(run, seen, "receipt"), after=[("charge", None)])
    run.spawn("apologise", _scope_of(run, seen, "apologise"), after=[("charge", "error")])
    run.spawn("end", _scope_of(run, seen, "end"), after=[("receipt", None), ("apologise", None)])
    await run.wait()  # does not raise
    assert _statuses(run) == {
        "start": "completed",
        "charge": "failed",
        "receipt": "skipped",
        "apologise": "completed",
        "end": "completed",
    }
    assert run.node_states()["charge"]["error"] == "ValueError: card declined"
    # The type is a field of its own, so the message does not repeat it.
    error = {"type": "ValueError", "message": "card declined", "node_id": "charge"}
    assert seen["apologise"]["error"] == error
    assert seen["end"]["error"] == error  # carried on past the handler
    assert "charge" not in run.steps  # a failed node has no output


async def test_success_skips_the_error_path_and_error_is_none() -> None:
    run = _run(["start", "charge", "receipt", "apologise", "end"])
    seen: dict[str, Any] = {}
    run.spawn("start", _const("s"))
    run.spawn("charge", _const({"paid": True}), after=[("start", None)])
    run.spawn("receipt", _scope_of(run, seen, "receipt"), after=[("charge", None)])
    run.spawn("apologise", _scope_of(run, seen, "apologise"), after=[("charge", "error")])
    run.spawn("end", _scope_of(run, seen, "end"), after=[("receipt", None), ("apologise", None)])
    await run.wait()
    assert _statuses(run)["apologise"] == "skipped"
    assert _statuses(run)["end"] == "completed"
    assert seen["receipt"]["error"] is None and seen["end"]["error"] is None


async def test_error_stays_on_its_path() -> None:
    # start fans out to a failing node with a handler and to a healthy branch; they join.
    run = _run(["start", "bad", "handler", "healthy", "join"])
    seen: dict[str, Any] = {}
    run.spawn("start", _const("s"))
    run.spawn("bad", _failing("boom", "RuntimeError"), after=[("start", None)])
    run.spawn("healthy", _scope_of(run, seen, "healthy"), after=[("start", None)])
    run.spawn("handler", _scope_of(run, seen, "handler"), after=[("bad", "error")])
    run.spawn("join", _scope_of(run, seen, "join"), after=[("healthy", None), ("handler", None)])
    await run.wait()
    assert seen["healthy"]["error"] is None
    assert seen["handler"]["error"]["message"] == "boom"
    assert seen["join"]["error"]["type"] == "RuntimeError"  # from the branch that carried it


async def test_a_failure_without_an_error_edge_still_fails_the_run() -> None:
    run = _run(["start", "a", "handler", "b", "end"])
    run.spawn("start", _const(1))
    run.spawn("a", _failing(), after=[("start", None)])
    run.spawn("b", _failing("no handler"), after=[("start", None)])
    run.spawn("handler", _const(2), after=[("a", "error")])
    run.spawn("end", _const(3), after=[("handler", None), ("b", None)])
    with pytest.raises(ApplicationError) as caught:
        await run.wait()
    assert caught.value.message == "node 'b' failed: no handler"


async def test_a_failing_handler_fails_the_run() -> None:
    run = _run(["start", "a", "handler", "end"])
    run.spawn("start", _const(1))
    run.spawn("a", _failing(), after=[("start", None)])
    run.spawn("handler", _failing("handler broke"), after=[("a", "error")])
    run.spawn("end", _const(3), after=[("a", None), ("handler", None)])
    with pytest.raises(ApplicationError, match="node 'handler' failed: handler broke"):
        await run.wait()


async def test_template_errors_take_the_error_edge_too() -> None:
    run = _run(["start", "shape", "handler", "end"])

    async def shape() -> Any:
        raise TemplateEvaluationError("'dict object' has no attribute 'b'")

    run.spawn("start", _const(1))
    run.spawn("shape", shape, after=[("start", None)])
    run.spawn("handler", lambda: _const(run.error())(), after=[("shape", "error")])
    run.spawn("end", _const("done"), after=[("shape", None), ("handler", None)])
    await run.wait()
    assert run.steps["handler"] == {
        "type": "TemplateEvaluationError",
        "message": "'dict object' has no attribute 'b'",
        "node_id": "shape",
    }


async def test_graphs_without_error_edges_have_no_error_in_scope() -> None:
    run = _run(["start", "cond", "yes"])
    seen: dict[str, Any] = {}
    run.spawn("start", _const(1))
    run.spawn("cond", _const(Branch(True, "true")), after=[("start", None)])
    run.spawn("yes", _scope_of(run, seen, "yes"), after=[("cond", "true")])
    await run.wait()
    assert set(seen["yes"]) == {"input", "steps"}
    assert run.narrow_scope(["input", "error"]) == {"input": None, "error": None}


def test_failure_type_is_the_innermost_kind() -> None:
    inner = ApplicationError("GET x answered HTTP 500", type="HttpStatusError")
    wrapped = ActivityError(
        "Activity task failed",
        scheduled_event_id=1,
        started_event_id=2,
        identity="w",
        activity_type="t",
        activity_id="1",
        retry_state=RetryState.MAXIMUM_ATTEMPTS_REACHED,
    )
    wrapped.__cause__ = inner
    assert failure_type(wrapped) == "HttpStatusError"
    assert failure_type(TemplateEvaluationError("x")) == "TemplateEvaluationError"
