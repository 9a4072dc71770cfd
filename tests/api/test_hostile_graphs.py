"""Graphs written to stall or crash the API answer 422 in bounded time, naming what to fix,
while the API goes on answering everyone else."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from tests.api.conftest import Api, SignUp
from tests.api.helpers import new_project, new_workflow
from tests.factory import chain
from tests.services.test_compile_pool import slow_graph, transform

pytestmark = pytest.mark.slow

COMPILE_TIMEOUT_S = 10  # the live stack runs with the default RUNLOOM_COMPILE_TIMEOUT_S


async def _meanwhile(api: Api, until: asyncio.Task[httpx.Response]) -> float:
    """Another request, again and again while ``until`` runs: the longest it took."""
    longest = 0.0
    while not until.done():
        started = time.monotonic()
        assert (await api.get("/api/projects")).status_code == 200
        longest = max(longest, time.monotonic() - started)
    return longest


async def _post_while_others_are_served(
    api: Api, other: Api, path: str
) -> tuple[httpx.Response, float, float]:
    started = time.monotonic()
    task = asyncio.ensure_future(api.post(path, json={}))
    longest = await _meanwhile(other, task)
    return await task, time.monotonic() - started, longest


@pytest.mark.parametrize(
    ("node", "code", "says"),
    [
        (transform("{{ 3**(10**9) }}"), "template_syntax", "4096 bits"),
        (transform("{{ 'x'*10**9 }}"), "template_syntax", "1048576 characters"),
        (
            {"id": "evil", "type": "python", "config": {"code": "return " + "-" * 30_000 + "1"}},
            "python_too_deep",
            "nested too deeply to parse",
        ),
        (
            {"id": "evil", "type": "python", "config": {"code": "return " + "1+" * 5_000 + "1"}},
            "python_too_deep",
            "nested too deeply to parse",
        ),
    ],
    ids=["power", "repetition", "unary", "binary"],
)
async def test_hostile_nodes_are_problems_on_the_node(
    sign_up: SignUp, node: dict[str, Any], code: str, says: str
) -> None:
    api, other = await sign_up(), await sign_up()
    project = await new_project(api, "hostile")
    wid = await new_workflow(api, project["id"], chain(node))
    for action in ("compile", "deploy", "build"):
        response, took, longest = await _post_while_others_are_served(
            api, other, f"/api/workflows/{wid}/{action}"
        )
        assert response.status_code == 422, (action, response.text)
        (problem,) = response.json()["problems"]
        assert (problem["code"], problem["node_id"]) == (code, "evil")
        assert says in problem["message"]
        assert took < 5 and longest < 2, (action, took, longest)
    assert (await api.ok("GET", f"/api/workflows/{wid}/versions"))["versions"] == []


async def test_a_graph_that_compiles_too_long_is_stopped(sign_up: SignUp) -> None:
    api, other = await sign_up(), await sign_up()
    project = await new_project(api, "slow")
    wid = await new_workflow(api, project["id"], slow_graph())
    response, took, longest = await _post_while_others_are_served(
        api, other, f"/api/workflows/{wid}/compile"
    )
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail.startswith(f"compiling this graph took longer than {COMPILE_TIMEOUT_S} s")
    assert "child workflows" in detail
    assert COMPILE_TIMEOUT_S <= took < COMPILE_TIMEOUT_S + 5
    assert longest < 2
    # The compiler goes on with a fresh process.
    await api.ok("PUT", f"/api/workflows/{wid}", json={"graph": chain(transform("{{ input }}"))})
    compiled = await api.ok("POST", f"/api/workflows/{wid}/compile", json={})
    assert compiled["compiled"]["workflow_type"].endswith("@v1")
