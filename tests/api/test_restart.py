"""The API/manager process killed with runs in flight: nothing is lost or counted twice."""

from __future__ import annotations

import asyncio

import pytest

from tests.api.conftest import SignUp
from tests.api.graphs import sleepy_graph
from tests.api.helpers import new_project, new_workflow, wait_for_end
from tests.conftest import LiveStack

RUNS = 20


@pytest.mark.timeout(240)
async def test_kill_during_twenty_runs_then_restart_completes_all_once(
    sign_up: SignUp, live_stack: LiveStack
) -> None:
    api = await sign_up()
    project = await new_project(api, "survivor")
    wid = await new_workflow(api, project["id"], sleepy_graph(3))
    await api.ok("POST", f"/api/workflows/{wid}/deploy", 201)
    started = await asyncio.gather(
        *(
            api.ok("POST", f"/api/workflows/{wid}/executions", 201, json={"input": {"n": i}})
            for i in range(RUNS)
        )
    )
    ids = [s["execution"]["id"] for s in started]

    live_stack.kill()  # SIGKILL: no shutdown code runs
    live_stack.start()

    finished = await asyncio.gather(*(wait_for_end(api, i, within_s=120) for i in ids))
    assert [f["status"] for f in finished] == ["completed"] * RUNS
    assert sorted(f["output"]["n"] for f in finished) == list(range(RUNS))
    stats = await api.ok("GET", f"/api/projects/{project['id']}/stats")
    assert stats["project"]["total_workflow_executions"] == RUNS
    assert stats["workflows"][0]["execution_count"] == RUNS
    assert stats["activities"][0]["execution_count"] == RUNS
