"""Step details read back from real runs on the Temporal dev server (compiled graphs, the
in-thread python runtime): ended and live runs, with their worker serving and after it
stopped. No database: the execution row is built here."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle

from runloom.compiler import CompiledWorkflow, compile_workflow
from runloom.models import Execution
from runloom.services import step_history, steps
from runloom.services.step_history import Step
from tests.compiler.conftest import chain, serving, start

pytestmark = pytest.mark.integration

CALC = {
    "id": "calc",
    "type": "python",
    "config": {"code": "print('adding', input['xs'])\nreturn {'total': sum(input['xs'])}"},
}
EACH = {
    "id": "each",
    "type": "for_each",
    "config": {
        "items": "input.xs",
        "step": {"type": "python", "config": {"code": "print('item', index)\nreturn item * 10"}},
    },
}
SHAPE = {"id": "shape", "type": "transform", "config": {"output": {"t": "{{ steps.calc.total }}"}}}


def _compiled(*middle: dict[str, Any], end: Any = None) -> CompiledWorkflow:
    return compile_workflow(chain(*middle, end_output=end), workflow_key="orders", version=1)


def _execution(handle: WorkflowHandle[Any, Any], status: str, **fields: Any) -> Execution:
    return Execution(
        id=uuid.uuid4(),
        workflow_id=uuid.uuid4(),
        project_id=None,
        status=status,  # type: ignore[arg-type]
        input=fields.get("input"),
        output=fields.get("output"),
        error=None,
        node_states={},
        code_version=1,
        workflow_type="orders@v1",
        task_queue_name=None,
        temporal_workflow_id=handle.id,
        temporal_run_id=handle.result_run_id,
        started_at=None,
        finished_at=None,
        duration_ms=None,
        created_at=datetime.now(UTC),
    )


async def _steps(client: Client, compiled: CompiledWorkflow, execution: Execution) -> list[Step]:
    types = step_history.node_types(compiled.workflow_code)
    return await steps.run_steps(client, execution, node_types=types)


def _by_key(found: list[Step]) -> dict[tuple[str, int | None], Step]:
    return {(s.node_id, s.item_index): s for s in found}


async def test_an_ended_run_reads_the_same_with_and_without_its_worker(
    temporal_client: Client,
) -> None:
    compiled = _compiled(CALC, EACH, SHAPE, end="{{ steps.shape }}")
    run_input = {"xs": [1, 2, 3]}
    async with serving(temporal_client, compiled) as tq:
        handle = await start(temporal_client, compiled, tq, run_input)
        output = await handle.result()
        execution = _execution(handle, "completed", input=run_input, output=output)
        served = await _steps(temporal_client, compiled, execution)
    gone = await _steps(temporal_client, compiled, execution)  # the worker has stopped
    assert served == gone
    found = _by_key(gone)
    assert [(s.node_id, s.item_index) for s in gone] == [
        ("start", None),
        ("calc", None),
        ("each", None),
        ("each", 0),
        ("each", 1),
        ("each", 2),
        ("shape", None),
        ("end", None),
    ]
    calc = found["calc", None]
    assert (calc.type, calc.status, calc.attempts, calc.logs) == (
        "python",
        "completed",
        1,
        ("adding [1, 2, 3]",),
    )
    assert calc.input["input"] == run_input and calc.output == {"total": 6}
    assert found["each", None].output == [10, 20, 30]
    assert [found["each", i].logs for i in range(3)] == [("item 0",), ("item 1",), ("item 2",)]
    assert found["shape", None].output == {"t": 6}  # from the memo: no event holds it
    assert found["start", None].output == run_input and found["end", None].output == {"t": 6}
    assert all(s.duration_ms is not None for s in gone)


async def test_a_failed_python_step_shows_its_print_and_user_traceback(
    temporal_client: Client,
) -> None:
    boom = {
        "id": "boom",
        "type": "python",
        "config": {"code": "print('checking', input)\nx = {}\nreturn x['sku']"},
    }
    compiled = _compiled(boom)
    async with serving(temporal_client, compiled) as tq:
        handle = await start(temporal_client, compiled, tq, {"n": 1})
        with pytest.raises(WorkflowFailureError):
            await handle.result()
    found = _by_key(await _steps(temporal_client, compiled, _execution(handle, "failed")))
    step = found["boom", None]
    assert (step.status, step.logs) == ("failed", ("checking {'n': 1}",))
    assert step.error is not None and step.error.type == "KeyError"
    assert step.error.traceback == (
        "Traceback (most recent call last):",
        "  File \"<python node 'boom'>\", line 3, in node",
        "    return x['sku']",
        "KeyError: 'sku'",
    )
    assert ("end", None) not in found


async def test_a_live_run_is_read_from_its_worker_then_from_history_alone(
    temporal_client: Client,
) -> None:
    approve = {"id": "approve", "type": "wait_for_signal", "config": {"signal": "go"}}
    compiled = _compiled(CALC, SHAPE, approve)
    async with serving(temporal_client, compiled) as tq:
        handle = await start(temporal_client, compiled, tq, {"xs": [4]})
        execution = _execution(handle, "running", input={"xs": [4]})
        # Each read asks the worker with a short timeout and falls back to the history when
        # it does not answer in time, as on a loaded machine it may not: read until it did.
        for _ in range(100):
            live = _by_key(await _steps(temporal_client, compiled, execution))
            if ("approve", None) in live and live["shape", None].output is not None:
                break
        assert live["approve", None].status == "running"
        assert live["shape", None].output == {"t": 4}  # asked of the worker
        assert live["calc", None].output == {"total": 4}
    alone = _by_key(await _steps(temporal_client, compiled, execution))
    assert alone["calc", None].output == {"total": 4}  # the history still has it
    assert alone["calc", None].logs == ("adding [4]",)
    assert ("approve", None) not in alone  # nothing recorded it yet
    await handle.terminate()
