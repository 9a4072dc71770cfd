"""Live streams are pushed: a node's change reaches an open stream while the run goes on,
with no polling between (the stream would otherwise see it only when the run ends)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx

from tests.api.conftest import Api, SignUp
from tests.api.helpers import new_project, new_workflow


def approve_then_pause() -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "approve",
                "type": "wait_for_signal",
                "config": {"signal": "go", "timeout_s": 600},
            },
            {"id": "pause", "type": "delay", "config": {"seconds": 3}},
            {"id": "end", "type": "end", "config": {"output": "{{ steps.approve }}"}},
        ],
        "edges": [
            {"source": "start", "target": "approve"},
            {"source": "approve", "target": "pause"},
            {"source": "pause", "target": "end"},
        ],
    }


async def _stream(api: Api, execution_id: str, seen: asyncio.Queue[dict[str, Any]]) -> None:
    async with api.client.stream("GET", f"/api/executions/{execution_id}/events") as response:
        assert response.status_code == 200
        kind = None
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: ") and kind == "execution":
                await seen.put(json.loads(line.removeprefix("data: ")))
            elif kind == "end":
                return


async def test_a_node_change_is_pushed_to_an_open_stream_while_the_run_goes_on(
    sign_up: SignUp,
) -> None:
    api = await sign_up()
    project = await new_project(api, "live push")
    workflow_id = await new_workflow(api, project["id"], approve_then_pause())
    build = await api.ok("POST", f"/api/workflows/{workflow_id}/build", 201, json={"input": {}})
    execution_id = build["execution_id"]
    seen: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    reader = asyncio.create_task(_stream(api, execution_id, seen))

    async def state_of(node: str, wanted: str, *, within_s: float) -> dict[str, Any]:
        async with asyncio.timeout(within_s):
            while True:
                execution = await seen.get()
                if execution["node_states"].get(node, {}).get("status") == wanted:
                    return execution

    first = await state_of("approve", "running", within_s=15)
    assert first["status"] == "running"
    signalled = time.monotonic()
    await api.ok(
        "POST", f"/api/executions/{execution_id}/signal", 202, json={"name": "go", "payload": "yes"}
    )
    # The delay keeps the run open for 3 s: only a push can show this before it ends.
    pushed = await state_of("pause", "running", within_s=2)
    assert time.monotonic() - signalled < 2
    assert pushed["status"] == "running"
    assert pushed["node_states"]["approve"]["status"] == "completed"
    async with asyncio.timeout(20):
        last = await seen.get()
        while last["status"] == "running":
            last = await seen.get()
    assert last["status"] == "completed" and last["output"] == "yes"
    assert last["node_states"]["end"]["status"] == "completed"
    await asyncio.wait_for(reader, 5)


async def test_streams_beyond_the_per_user_cap_are_refused_with_429(
    sign_up: SignUp, live_server: str
) -> None:
    api = await sign_up()
    project = await new_project(api, "many streams")
    workflow_id = await new_workflow(api, project["id"], approve_then_pause())
    build = await api.ok("POST", f"/api/workflows/{workflow_id}/build", 201, json={"input": {}})
    path = f"/api/executions/{build['execution_id']}/events"
    headers = {"Authorization": api.client.headers["Authorization"]}
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(base_url=live_server, timeout=30, limits=limits) as client:
        opened: list[httpx.Response] = []
        try:
            for _ in range(STREAMS_PER_USER):
                response = await client.send(
                    client.build_request("GET", path, headers=headers), stream=True
                )
                assert response.status_code == 200
                opened.append(response)
            refused = await client.get(path, headers=headers)
            assert refused.status_code == 429
            assert "RUNLOOM_STREAMS_PER_USER" in refused.json()["detail"]
        finally:
            for response in opened:
                await response.aclose()
    await api.ok("POST", f"/api/executions/{build['execution_id']}/cancel", 202)


STREAMS_PER_USER = 5  # the live stack's RUNLOOM_STREAMS_PER_USER (tests/conftest.py)
