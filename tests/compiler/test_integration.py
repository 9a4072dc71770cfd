"""Compiled graphs running on the real Temporal dev server, through the loader and sandbox."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.worker import Replayer

from runloom.compiler import CompileOptions, compile_workflow
from runloom.worker.loader import load_compiled

from .conftest import FakeService, chain, graph, module_base, serving, start

pytestmark = pytest.mark.integration


def _compile(doc: dict[str, Any], key: str = "wf", version: int = 1, **options: Any) -> Any:
    return compile_workflow(
        doc, workflow_key=key, version=version, options=CompileOptions(**options)
    )


async def _states(handle: Any) -> dict[str, dict[str, Any]]:
    states: dict[str, dict[str, Any]] = await handle.query("node_states")
    return states


async def test_transform_and_end(temporal_client: Client) -> None:
    compiled = _compile(
        chain(
            {
                "id": "shape",
                "type": "transform",
                "config": {"output": {"n": "{{ input.n * 2 }}", "s": "n={{ input.n }}"}},
            },
            end_output="{{ steps.shape }}",
        )
    )
    async with serving(temporal_client, compiled) as tq:
        handle = await start(temporal_client, compiled, tq, {"n": 21})
        assert await handle.result() == {"n": 42, "s": "n=21"}
        states = await _states(handle)
    assert {k: v["status"] for k, v in states.items()} == dict.fromkeys(
        ["start", "shape", "end"], "completed"
    )
    assert states["shape"]["started_at"] is not None
    assert states["shape"]["finished_at"] >= states["shape"]["started_at"]


async def test_python_node(temporal_client: Client) -> None:
    compiled = _compile(
        chain(
            {
                "id": "calc",
                "type": "python",
                "config": {"code": "total = sum(input['xs'])\nreturn {'total': total}"},
            },
            end_output="{{ steps.calc.total }}",
        )
    )
    async with serving(temporal_client, compiled) as tq:
        handle = await start(temporal_client, compiled, tq, {"xs": [1, 2, 3]})
        assert await handle.result() == 6
        states = await _states(handle)
    assert states["calc"]["attempt"] == 1


async def test_python_error_fails_run_with_its_message(temporal_client: Client) -> None:
    compiled = _compile(
        chain(
            {
                "id": "boom",
                "type": "python",
                "config": {"code": "raise ValueError('order 17 has no lines')"},
            }
        )
    )
    async with serving(temporal_client, compiled) as tq:
        handle = await start(temporal_client, compiled, tq)
        with pytest.raises(WorkflowFailureError) as caught:
            await handle.result()
        states = await _states(handle)
    assert "order 17 has no lines" in str(caught.value.cause)
    assert "boom" in str(caught.value.cause)
    assert states["boom"]["status"] == "failed"
    assert "order 17 has no lines" in (states["boom"]["error"] or "")
    assert states["end"]["status"] == "pending"


async def test_http_request_fails_twice_then_succeeds_under_retry(
    temporal_client: Client, fake_service: FakeService
) -> None:
    fake_service.fail_first["/orders/7"] = 2
    compiled = _compile(
        chain(
            {
                "id": "fetch",
                "type": "http_request",
                "config": {
                    "method": "POST",
                    "url": fake_service.url + "/orders/{{ input.id }}",
                    "headers": {"x-echo": "id {{ input.id }}"},
                    "body": {"id": "{{ input.id }}", "note": "literal"},
                },
                "retry": {
                    "maximum_attempts": 3,
                    "initial_interval_s": 0.1,
                    "backoff_coefficient": 1,
                },
                "timeout_s": 10,
            },
            end_output="{{ steps.fetch }}",
        )
    )
    async with serving(temporal_client, compiled) as tq:
        handle = await start(temporal_client, compiled, tq, {"id": 7})
        result = await handle.result()
        states = await _states(handle)
    assert result["status"] == 200
    assert result["body"] == {"path": "/orders/7", "hit": 3, "method": "POST", "echo": "id 7"}
    assert fake_service.hits["/orders/7"] == 3
    assert fake_service.bodies[-1] == {"id": 7, "note": "literal"}
    assert states["fetch"]["attempt"] == 3


async def test_parallel_branches_join(temporal_client: Client) -> None:
    sleepy = "import time\nstart = time.time()\ntime.sleep(0.5)\nreturn [start, time.time()]"
    doc = graph(
        [
            {"id": "start", "type": "start"},
            {"id": "a", "type": "python", "config": {"code": sleepy}},
            {"id": "b", "type": "python", "config": {"code": sleepy}},
            {
                "id": "join",
                "type": "transform",
                "config": {"output": ["{{ steps.a }}", "{{ steps.b }}"]},
            },
            {"id": "end", "type": "end", "config": {"output": "{{ steps.join }}"}},
        ],
        [("start", "a"), ("start", "b"), ("a", "join"), ("b", "join"), ("join", "end")],
    )
    compiled = _compile(doc)
    async with serving(temporal_client, compiled) as tq:
        handle = await start(temporal_client, compiled, tq)
        (a_start, a_end), (b_start, b_end) = await handle.result()
    # Both ran at the same time: each started before the other finished.
    assert a_start < b_end and b_start < a_end


def _condition_graph() -> dict[str, Any]:
    return graph(
        [
            {"id": "start", "type": "start"},
            {"id": "big", "type": "condition", "config": {"expression": "input.total > 100"}},
            {"id": "review", "type": "transform", "config": {"output": "review {{ input.total }}"}},
            {
                "id": "after_review",
                "type": "transform",
                "config": {"output": "{{ steps.review }}!"},
            },
            {"id": "auto", "type": "transform", "config": {"output": "auto {{ input.total }}"}},
            {
                "id": "end",
                "type": "end",
                "config": {"output": "{{ steps.after_review or steps.auto }}"},
            },
        ],
        [
            ("start", "big"),
            ("big", "review", "true"),
            ("review", "after_review"),
            ("big", "auto", "false"),
            ("after_review", "end"),
            ("auto", "end"),
        ],
    )


async def test_condition_skips_the_branch_not_taken(temporal_client: Client) -> None:
    compiled = _compile(_condition_graph())
    async with serving(temporal_client, compiled) as tq:
        small = await start(temporal_client, compiled, tq, {"total": 5})
        big = await start(temporal_client, compiled, tq, {"total": 500})
        assert await small.result() == "auto 5"
        assert await big.result() == "review 500!"
        small_states = await _states(small)
        big_states = await _states(big)
    assert small_states["review"]["status"] == "skipped"
    assert small_states["after_review"]["status"] == "skipped"
    assert small_states["auto"]["status"] == "completed"
    assert small_states["end"]["status"] == "completed"
    assert big_states["auto"]["status"] == "skipped"
    assert big_states["after_review"]["status"] == "completed"


def _approval_graph() -> dict[str, Any]:
    return graph(
        [
            {"id": "start", "type": "start"},
            {
                "id": "approve",
                "type": "wait_for_signal",
                "config": {"signal": "approve", "timeout_s": 1.5},
            },
            {
                "id": "approved",
                "type": "transform",
                "config": {"output": "approved by {{ steps.approve.by }}"},
            },
            {"id": "expired", "type": "transform", "config": {"output": "expired"}},
            {
                "id": "end",
                "type": "end",
                "config": {"output": "{{ steps.approved or steps.expired }}"},
            },
        ],
        [
            ("start", "approve"),
            ("approve", "approved"),
            ("approve", "expired", "timeout"),
            ("approved", "end"),
            ("expired", "end"),
        ],
    )


async def test_signal_approves_waiting_run(temporal_client: Client) -> None:
    compiled = _compile(_approval_graph())
    async with serving(temporal_client, compiled) as tq:
        handle = await start(temporal_client, compiled, tq)
        await handle.signal("approve", {"by": "ada"})
        assert await handle.result() == "approved by ada"
        states = await _states(handle)
    assert states["expired"]["status"] == "skipped"


async def test_signal_timeout_takes_timeout_branch(temporal_client: Client) -> None:
    compiled = _compile(_approval_graph())
    async with serving(temporal_client, compiled) as tq:
        handle = await start(temporal_client, compiled, tq)
        assert await handle.result() == "expired"
        states = await _states(handle)
    assert states["approved"]["status"] == "skipped"
    assert states["approve"]["status"] == "completed"


async def test_signal_timeout_without_branch_fails_run(temporal_client: Client) -> None:
    compiled = _compile(
        chain({"id": "wait", "type": "wait_for_signal", "config": {"signal": "go", "timeout_s": 1}})
    )
    async with serving(temporal_client, compiled) as tq:
        handle = await start(temporal_client, compiled, tq)
        with pytest.raises(WorkflowFailureError) as caught:
            await handle.result()
    assert "no signal 'go' arrived within 1 s" in str(caught.value.cause)


async def test_delay(temporal_client: Client) -> None:
    compiled = _compile(
        chain({"id": "pause", "type": "delay", "config": {"seconds": 1}}, end_output="done")
    )
    async with serving(temporal_client, compiled) as tq:
        handle = await start(temporal_client, compiled, tq)
        assert await handle.result() == "done"
        states = await _states(handle)
    from datetime import datetime

    started = datetime.fromisoformat(states["pause"]["started_at"])
    finished = datetime.fromisoformat(states["pause"]["finished_at"])
    assert (finished - started).total_seconds() >= 1


async def test_for_each_respects_concurrency_bound(temporal_client: Client) -> None:
    code = (
        "import time\n"
        "start = time.time()\n"
        "time.sleep(0.3)\n"
        "return {'item': item, 'index': index, 'span': [start, time.time()]}"
    )
    compiled = _compile(
        chain(
            {
                "id": "each",
                "type": "for_each",
                "config": {
                    "items": "input.xs",
                    "concurrency": 2,
                    "step": {"type": "python", "config": {"code": code}},
                },
            },
            end_output="{{ steps.each }}",
        )
    )
    async with serving(temporal_client, compiled) as tq:
        handle = await start(temporal_client, compiled, tq, {"xs": list("abcdef")})
        results = await handle.result()
    assert [r["item"] for r in results] == list("abcdef")
    assert [r["index"] for r in results] == list(range(6))
    spans = [r["span"] for r in results]
    overlap = max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans)
    assert overlap == 2


async def test_for_each_transform_step(temporal_client: Client) -> None:
    compiled = _compile(
        chain(
            {
                "id": "each",
                "type": "for_each",
                "config": {
                    "items": "input.xs",
                    "step": {"type": "transform", "config": {"output": "{{ index }}:{{ item }}"}},
                },
            },
            end_output="{{ steps.each }}",
        )
    )
    async with serving(temporal_client, compiled) as tq:
        handle = await start(temporal_client, compiled, tq, {"xs": ["a", "b"]})
        assert await handle.result() == ["0:a", "1:b"]


async def test_child_workflow(temporal_client: Client) -> None:
    child = _compile(
        chain(
            {"id": "double", "type": "transform", "config": {"output": "{{ input.n * 2 }}"}},
            end_output="{{ steps.double }}",
        ),
        key="child",
    )
    parent = _compile(
        chain(
            {
                "id": "call",
                "type": "child_workflow",
                "config": {"workflow": "child", "input": {"n": "{{ input.n }}"}},
            },
            {
                "id": "each",
                "type": "for_each",
                "config": {
                    "items": "[1, 2]",
                    "step": {
                        "type": "child_workflow",
                        "config": {"workflow": "child", "input": {"n": "{{ item }}"}},
                    },
                },
            },
            end_output={"one": "{{ steps.call }}", "many": "{{ steps.each }}"},
        ),
        key="parent",
        child_workflow_types={"child": child.workflow_type},
    )
    async with serving(temporal_client, child, parent) as tq:
        handle = await start(temporal_client, parent, tq, {"n": 4})
        assert await handle.result() == {"one": 8, "many": [2, 4]}


async def test_local_activity_and_steps_query(temporal_client: Client) -> None:
    compiled = _compile(
        chain(
            {"id": "calc", "type": "python", "local": True, "config": {"code": "return 40 + 2"}},
            end_output=None,
        )
    )
    async with serving(temporal_client, compiled) as tq:
        handle = await start(temporal_client, compiled, tq, {"a": 1})
        result = await handle.result()
        steps = await handle.query("steps")
    assert result == {"start": {"a": 1}, "calc": 42}
    assert steps == {**result, "end": result}


async def test_two_versions_side_by_side(temporal_client: Client) -> None:
    v1 = _compile(chain(end_output="one"), version=1)
    v2 = _compile(chain(end_output="two"), version=2)
    async with serving(temporal_client, v1, v2) as tq:
        results = await asyncio.gather(
            (await start(temporal_client, v1, tq)).result(),
            (await start(temporal_client, v2, tq)).result(),
        )
    assert results == ["one", "two"]


async def test_python_node_with_retry_fails_twice_then_succeeds(
    temporal_client: Client, tmp_path: Path
) -> None:
    code = (
        "from pathlib import Path\n"
        "counter = Path(input['counter'])\n"
        "n = int(counter.read_text() or 0) + 1 if counter.exists() else 1\n"
        "counter.write_text(str(n))\n"
        "if n < 3:\n"
        "    raise ConnectionError(f'flaky {n}')\n"
        "return n\n"
    )
    compiled = _compile(
        chain(
            {
                "id": "flaky",
                "type": "python",
                "config": {"code": code},
                "retry": {
                    "maximum_attempts": 3,
                    "initial_interval_s": 0.1,
                    "backoff_coefficient": 1,
                },
            },
            end_output="{{ steps.flaky }}",
        )
    )
    async with serving(temporal_client, compiled) as tq:
        handle = await start(temporal_client, compiled, tq, {"counter": str(tmp_path / "n")})
        assert await handle.result() == 3
        states = await _states(handle)
    assert states["flaky"]["attempt"] == 3


async def test_history_replays_deterministically(temporal_client: Client) -> None:
    doc = graph(
        [
            {"id": "start", "type": "start"},
            {"id": "wait", "type": "wait_for_signal", "config": {"signal": "go", "timeout_s": 30}},
            {
                "id": "each",
                "type": "for_each",
                "config": {
                    "items": "input.xs",
                    "concurrency": 2,
                    "step": {"type": "python", "config": {"code": "return item + 1"}},
                },
            },
            {"id": "left", "type": "transform", "config": {"output": "{{ steps.wait }}"}},
            {
                "id": "end",
                "type": "end",
                "config": {"output": ["{{ steps.each }}", "{{ steps.left }}"]},
            },
        ],
        [("start", "wait"), ("start", "each"), ("wait", "left"), ("each", "end"), ("left", "end")],
    )
    compiled = _compile(doc)
    async with serving(temporal_client, compiled) as tq:
        handle = await start(temporal_client, compiled, tq, {"xs": [1, 2, 3]})
        await handle.signal("go", "yes")
        assert await handle.result() == [[2, 3, 4], "yes"]
        history = await handle.fetch_history()
    # Replay from a fresh load of the same source, as a restarted worker would.
    base = module_base(compiled, f"replay{uuid.uuid4().hex[:8]}")
    loaded = load_compiled(
        workflow_module=f"{base}.workflow",
        workflow_code=compiled.workflow_code,
        activities_module=f"{base}.activities",
        activities_code=compiled.activities_code,
    )
    await Replayer(workflows=loaded.workflows).replay_workflow(history)
