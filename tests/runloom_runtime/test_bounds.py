"""Run-time bounds: items per for_each node and bytes per node output."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from runloom_runtime.graph import Branch, GraphRun, as_items, output_size


def _run(node_ids: list[str], *, max_output_bytes: int | None) -> GraphRun:
    return GraphRun(
        node_ids, now=lambda: datetime(2025, 1, 1, tzinfo=UTC), max_output_bytes=max_output_bytes
    )


def _const(value: Any) -> Any:
    async def body() -> Any:
        return value

    return body


def test_as_items_takes_up_to_the_bound_and_refuses_one_more() -> None:
    assert as_items(list(range(3)), node_id="each", max_items=3) == [0, 1, 2]
    with pytest.raises(ApplicationError) as refused:
        as_items(list(range(4)), node_id="each", max_items=3)
    assert refused.value.type == "TooManyItems"
    assert refused.value.non_retryable
    assert refused.value.message == (
        "for_each node 'each': 4 items, over the limit of 3 items per for_each node "
        "(RUNLOOM_QUOTA_FOR_EACH_ITEMS); split the list or process it in batches"
    )


def test_as_items_bounds_mappings_too_and_is_unbounded_without_a_bound() -> None:
    with pytest.raises(ApplicationError, match="3 items, over the limit of 2"):
        as_items({"a": 1, "b": 2, "c": 3}, node_id="each", max_items=2)
    assert len(as_items(list(range(50_000)), node_id="each")) == 50_000


def test_output_size_is_compact_utf8_json() -> None:
    assert output_size({"a": [1, 2]}) == len('{"a":[1,2]}')
    assert output_size("é") == len('"é"'.encode())  # two bytes for é
    assert output_size(None) == 4
    assert output_size(datetime(2025, 1, 1, tzinfo=UTC)) > 0  # not JSON: measured as text


async def test_an_output_over_the_bound_fails_its_node_naming_the_limit() -> None:
    run = _run(["start", "big", "after"], max_output_bytes=100)
    run.spawn("start", _const({"small": True}))
    run.spawn("big", _const("x" * 99), after=[("start", None)])  # 101 bytes with quotes
    run.spawn("after", _const(1), after=[("big", None)])
    with pytest.raises(ApplicationError) as failed:
        await run.wait()
    assert failed.value.type == "NodeFailed"
    assert failed.value.non_retryable
    states = run.node_states()
    assert states["start"]["status"] == "completed"
    assert states["big"]["status"] == "failed"
    assert states["big"]["error"] == (
        "its output is 101 bytes of JSON, over the limit of 100 bytes per node output "
        "(RUNLOOM_QUOTA_STEP_OUTPUT_KB); return less, for example a reference to data "
        "kept elsewhere"
    )
    assert "big" not in run.steps  # an output over the bound is never kept
    assert states["after"]["status"] == "pending"


async def test_an_output_at_the_bound_is_kept() -> None:
    run = _run(["start", "fits"], max_output_bytes=100)
    run.spawn("start", _const(None))
    run.spawn("fits", _const("x" * 98), after=[("start", None)])
    await run.wait()
    assert run.steps["fits"] == "x" * 98


async def test_a_branching_node_is_measured_by_its_output() -> None:
    run = _run(["cond", "yes"], max_output_bytes=10)
    run.spawn("cond", _const(Branch("y" * 20, "true")))
    run.spawn("yes", _const(1), after=[("cond", "true")])
    with pytest.raises(ApplicationError):
        await run.wait()
    assert run.node_states()["cond"]["status"] == "failed"


async def test_code_compiled_without_a_bound_keeps_any_output() -> None:
    run = _run(["start", "big"], max_output_bytes=None)
    run.spawn("start", _const(None))
    run.spawn("big", _const("x" * 2_000_000), after=[("start", None)])
    await run.wait()
    assert len(run.steps["big"]) == 2_000_000
