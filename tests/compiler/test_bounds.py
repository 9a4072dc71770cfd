"""Run bounds compiled into the code (CompileOptions.bounds), enforced on a real Temporal."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError

from runloom.compiler import CompileOptions, RunBounds, compile_workflow

from .cases import CASES
from .conftest import chain, serving, start

BOUNDS = RunBounds(for_each_items=3, step_output_bytes=200)


def _compile(doc: dict[str, Any], bounds: RunBounds | None = BOUNDS) -> Any:
    return compile_workflow(
        doc, workflow_key="wf", version=1, options=CompileOptions(bounds=bounds)
    )


EACH = chain(
    {
        "id": "each",
        "type": "for_each",
        "config": {
            "items": "input.xs",
            "concurrency": 2,
            "step": {"type": "transform", "config": {"output": "{{ item * 2 }}"}},
        },
    },
    end_output="{{ steps.each }}",
)
# Twice its input: the input may fit where the node's output does not.
ECHO = chain(
    {
        "id": "echo",
        "type": "transform",
        "config": {"output": {"a": "{{ input.blob }}", "b": "{{ input.blob }}"}},
    },
    end_output="done",
)


def test_the_bounds_are_constants_of_the_generated_code_and_recorded() -> None:
    compiled = _compile(EACH)
    assert "MAX_STEP_OUTPUT_BYTES = 200\n" in compiled.workflow_code
    assert "MAX_FOR_EACH_ITEMS = 3\n" in compiled.workflow_code
    assert "max_items=MAX_FOR_EACH_ITEMS" in compiled.workflow_code
    assert "max_output_bytes=MAX_STEP_OUTPUT_BYTES" in compiled.workflow_code
    assert '"step_output_bytes": 200' in compiled.compiler_options_json
    no_for_each = _compile(ECHO).workflow_code
    assert "MAX_FOR_EACH_ITEMS" not in no_for_each


@pytest.mark.parametrize("case", sorted(CASES))
def test_without_bounds_the_code_is_what_it_always_was(case: str) -> None:
    unbounded = compile_workflow(
        CASES[case],
        workflow_key="orders",
        version=3,
        options=CompileOptions(child_workflow_types={"make-invoice": "make-invoice@v4"}),
    )
    assert "MAX_" not in unbounded.workflow_code
    assert '"bounds"' not in unbounded.compiler_options_json


@pytest.mark.integration
async def test_for_each_over_the_bound_fails_the_run(temporal_client: Client) -> None:
    compiled = _compile(EACH)
    async with serving(temporal_client, compiled) as tq:
        fits = await start(temporal_client, compiled, tq, {"xs": [1, 2, 3]})
        assert await fits.result() == [2, 4, 6]
        over = await start(temporal_client, compiled, tq, {"xs": [1, 2, 3, 4]})
        with pytest.raises(WorkflowFailureError) as failed:
            await over.result()
        states = await over.query("node_states")
    assert "4 items, over the limit of 3" in str(failed.value.cause)
    assert "RUNLOOM_QUOTA_FOR_EACH_ITEMS" in (states["each"]["error"] or "")
    assert states["each"]["status"] == "failed"


@pytest.mark.integration
async def test_a_node_output_over_the_bound_fails_the_run(temporal_client: Client) -> None:
    compiled = _compile(ECHO)
    async with serving(temporal_client, compiled) as tq:
        fits = await start(temporal_client, compiled, tq, {"blob": "x" * 90})
        assert await fits.result() == "done"
        over = await start(temporal_client, compiled, tq, {"blob": "x" * 150})
        with pytest.raises(WorkflowFailureError) as failed:
            await over.result()
        states = await over.query("node_states")
    assert "over the limit of 200 bytes per node output" in str(failed.value.cause)
    assert "RUNLOOM_QUOTA_STEP_OUTPUT_KB" in (states["echo"]["error"] or "")
    assert states["start"]["status"] == "completed"
    assert states["echo"]["status"] == "failed"
    assert states["end"]["status"] == "pending"
