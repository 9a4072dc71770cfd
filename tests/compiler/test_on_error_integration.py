"""Error edges on the real Temporal dev server: a failing python, http or for_each node
handled by its error path, so the run completes with the error in its output."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Replayer

from runloom.compiler import CompiledWorkflow, CompileOptions, compile_workflow
from runloom.worker.loader import load_compiled

from .cases_on_error import for_each_on_error, http_on_error, python_on_error
from .conftest import FakeService, chain, graph, module_base, serving, start

pytestmark = pytest.mark.integration


def _compile(doc: dict[str, Any]) -> CompiledWorkflow:
    return compile_workflow(doc, workflow_key="onerr", version=1, options=CompileOptions())


async def _statuses(handle: WorkflowHandle[Any, Any]) -> dict[str, str]:
    states: dict[str, dict[str, Any]] = await handle.query("node_states")
    return {node: state["status"] for node, state in states.items()}


async def _replays(compiled: CompiledWorkflow, handle: WorkflowHandle[Any, Any]) -> None:
    """The history replays on a fresh load of the code: the error path is deterministic."""
    history = await handle.fetch_history()
    base = module_base(compiled, f"replay{uuid.uuid4().hex[:8]}")
    loaded = load_compiled(
        workflow_module=f"{base}.workflow",
        workflow_code=compiled.workflow_code,
        activities_module=f"{base}.activities",
        activities_code=compiled.activities_code,
    )
    await Replayer(workflows=loaded.workflows).replay_workflow(history)


async def test_failing_python_node_is_handled_by_its_error_path(temporal_client: Client) -> None:
    compiled = _compile(python_on_error())
    async with serving(temporal_client, compiled) as tq:
        handle = await start(temporal_client, compiled, tq, {"order": 7})
        result = await handle.result()
        statuses = await _statuses(handle)
        states = await handle.query("node_states")
    # The message is the exception's own (its class is the type), as on the node's state.
    error = {"type": "ValueError", "message": "card declined", "node_id": "charge"}
    # The handler (a python node) got `error` as an argument; the end node has it in scope.
    assert result == {
        "result": {"sorry": "card declined", "from": "charge"},
        "error": error,
    }
    assert statuses == {
        "start": "completed",
        "charge": "failed",
        "receipt": "skipped",
        "apologise": "completed",
        "end": "completed",
    }
    assert states["charge"]["error"] == "card declined"
    await _replays(compiled, handle)


async def test_the_error_path_is_skipped_when_the_node_succeeds(temporal_client: Client) -> None:
    compiled = _compile(python_on_error(code="return error"))  # `error` is None here
    async with serving(temporal_client, compiled) as tq:
        handle = await start(temporal_client, compiled, tq)
        assert await handle.result() == {"result": "paid", "error": None}
        statuses = await _statuses(handle)
    assert statuses["charge"] == "completed"
    assert statuses["apologise"] == "skipped"


async def test_failing_http_node_is_handled_after_its_retries(
    temporal_client: Client, fake_service: FakeService
) -> None:
    fake_service.fail_first["/orders/7"] = 10
    compiled = _compile(http_on_error(url=fake_service.url + "/orders/{{ input.order_id }}"))
    async with serving(temporal_client, compiled) as tq:
        handle = await start(temporal_client, compiled, tq, {"order_id": 7})
        result = await handle.result()
        statuses = await _statuses(handle)
    assert result == {
        "failed": "fetch",
        "kind": "HttpStatusError",
        "why": f"GET {fake_service.url}/orders/7 answered HTTP 500",
    }
    assert fake_service.hits["/orders/7"] == 2  # both attempts of its retry policy first
    assert statuses == {
        "start": "completed",
        "fetch": "failed",
        "fallback": "completed",
        "end": "completed",
    }
    await _replays(compiled, handle)


async def test_http_node_that_recovers_within_its_retries_takes_no_error_path(
    temporal_client: Client, fake_service: FakeService
) -> None:
    fake_service.fail_first["/orders/8"] = 1
    compiled = _compile(http_on_error(url=fake_service.url + "/orders/{{ input.order_id }}"))
    async with serving(temporal_client, compiled) as tq:
        handle = await start(temporal_client, compiled, tq, {"order_id": 8})
        result = await handle.result()
        statuses = await _statuses(handle)
    assert result["hit"] == 2
    assert statuses["fetch"] == "completed"
    assert statuses["fallback"] == "skipped"


async def test_failing_for_each_is_handled(temporal_client: Client) -> None:
    compiled = _compile(for_each_on_error())
    async with serving(temporal_client, compiled) as tq:
        failing = await start(temporal_client, compiled, tq, {"xs": [1, 0]})
        assert await failing.result() == "ZeroDivisionError"
        fine = await start(temporal_client, compiled, tq, {"xs": [1, 2]})
        assert await fine.result() == [1.0, 0.5]
    await _replays(compiled, failing)


async def test_failing_child_workflow_is_handled(temporal_client: Client) -> None:
    child = compile_workflow(
        chain(
            {"id": "check", "type": "python", "config": {"code": "raise LookupError('no stock')"}}
        ),
        workflow_key="child",
        version=1,
        options=CompileOptions(),
    )
    parent = compile_workflow(
        graph(
            [
                {"id": "start", "type": "start"},
                {"id": "call", "type": "child_workflow", "config": {"workflow": "child"}},
                {"id": "end", "type": "end", "config": {"output": "{{ error }}"}},
            ],
            [("start", "call"), ("call", "end"), ("call", "end", "error")],
        ),
        workflow_key="parent",
        version=1,
        options=CompileOptions(child_workflow_types={"child": child.workflow_type}),
    )
    async with serving(temporal_client, child, parent) as tq:
        handle = await start(temporal_client, parent, tq)
        # The child's own failure, not Temporal's wrapping of it.
        assert await handle.result() == {
            "type": "LookupError",
            "message": "no stock",
            "node_id": "call",
        }
        assert (await _statuses(handle))["call"] == "failed"
