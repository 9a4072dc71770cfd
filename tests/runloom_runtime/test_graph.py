from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from runloom_runtime.graph import Branch, GraphRun, as_items, map_bounded


def _run(node_ids: list[str]) -> GraphRun:
    return GraphRun(node_ids, now=lambda: datetime(2025, 1, 1, tzinfo=UTC))


def _const(value: Any) -> Any:
    async def body() -> Any:
        return value

    return body


async def test_skips_branch_not_taken_and_joins() -> None:
    run = _run(["start", "cond", "yes", "no", "after_yes", "join"])
    run.input = {"x": 1}
    run.spawn("start", _const("s"))
    run.spawn("cond", _const(Branch(False, "false")), after=[("start", None)])
    run.spawn("yes", _const("y"), after=[("cond", "true")])
    run.spawn("no", _const("n"), after=[("cond", "false")])
    run.spawn("after_yes", _const("ay"), after=[("yes", None)])
    run.spawn("join", _const("j"), after=[("after_yes", None), ("no", None)])
    await run.wait()
    states = {k: v["status"] for k, v in run.node_states().items()}
    assert states == {
        "start": "completed",
        "cond": "completed",
        "yes": "skipped",
        "no": "completed",
        "after_yes": "skipped",
        "join": "completed",
    }
    assert run.steps == {"start": "s", "cond": False, "no": "n", "join": "j"}
    assert run.node_states()["join"]["started_at"] == "2025-01-01T00:00:00+00:00"


async def test_failure_is_recorded_and_raised_as_non_retryable() -> None:
    run = _run(["start", "bad", "after"])

    async def bad() -> Any:
        raise ApplicationError("TypeError: nope", type="TypeError")

    run.spawn("start", _const(1))
    run.spawn("bad", bad, after=[("start", None)])
    run.spawn("after", _const(2), after=[("bad", None)])
    with pytest.raises(ApplicationError) as caught:
        await run.wait()
    assert caught.value.message == "node 'bad' failed: TypeError: nope"
    assert caught.value.non_retryable
    states = run.node_states()
    assert states["bad"]["status"] == "failed"
    assert states["bad"]["error"] == "TypeError: nope"
    assert states["after"]["status"] == "pending"


async def test_record_attempt_unwraps_envelope() -> None:
    run = _run(["a"])
    assert run.record_attempt("a", {"output": {"k": 1}, "attempt": 3}) == {"k": 1}
    assert run.node_states()["a"]["attempt"] == 3


async def test_map_bounded_keeps_order_and_bound() -> None:
    running = 0
    peak = 0

    async def step(index: int, item: str) -> str:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01 * (5 - index))
        running -= 1
        return f"{index}{item}"

    assert await map_bounded(list("abcde"), step, concurrency=2) == ["0a", "1b", "2c", "3d", "4e"]
    assert peak == 2


def test_as_items() -> None:
    assert as_items([1], node_id="n") == [1]
    assert as_items({"a": 1}, node_id="n") == [{"key": "a", "value": 1}]
    with pytest.raises(ApplicationError, match="items must be a list, got int"):
        as_items(3, node_id="n")
