"""`POST /api/workflows/{id}/executions?wait=`: a synchronous run, recorded as any other."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api, SignUp
from tests.api.graphs import failing_graph, sleepy_graph, transform_graph
from tests.api.helpers import new_project, new_workflow, wait_for_end


async def _deployed(api: Api, graph: dict[str, Any]) -> str:
    project = await new_project(api, "sync")
    workflow_id = await new_workflow(api, project["id"], graph)
    await api.ok("POST", f"/api/workflows/{workflow_id}/deploy", 201)
    return workflow_id


async def test_a_run_that_ends_in_time_answers_200_with_its_output_and_is_recorded(
    sign_up: SignUp,
) -> None:
    api = await sign_up()
    workflow_id = await _deployed(api, transform_graph())
    answer = await api.ok(
        "POST", f"/api/workflows/{workflow_id}/executions?wait=30", 200, json={"input": {"n": 4}}
    )
    execution = answer["execution"]
    assert (execution["status"], execution["output"]) == ("completed", {"result": 9})
    # The same row, tracked to its end as usual.
    recorded = await wait_for_end(api, execution["id"])
    assert (recorded["status"], recorded["output"]) == ("completed", {"result": 9})


async def test_a_failed_run_answers_200_with_its_error(sign_up: SignUp) -> None:
    api = await sign_up()
    workflow_id = await _deployed(api, failing_graph("no such customer"))
    answer = await api.ok(
        "POST", f"/api/workflows/{workflow_id}/executions?wait=30", 200, json={"input": {}}
    )
    execution = answer["execution"]
    assert execution["status"] == "failed"
    assert "no such customer" in execution["error"]
    recorded = await wait_for_end(api, execution["id"])
    assert recorded["status"] == "failed" and recorded["error"] == execution["error"]


async def test_a_run_still_going_when_the_wait_ends_answers_202_running(sign_up: SignUp) -> None:
    api = await sign_up()
    workflow_id = await _deployed(api, sleepy_graph(30))
    answer = await api.ok(
        "POST", f"/api/workflows/{workflow_id}/executions?wait=0.5", 202, json={"input": {"n": 1}}
    )
    assert answer["execution"]["status"] in {"pending", "running"}
    await api.ok("POST", f"/api/executions/{answer['execution']['id']}/terminate", 202, json={})


async def test_a_wait_out_of_range_is_refused_with_422_and_nothing_starts(sign_up: SignUp) -> None:
    api = await sign_up()
    workflow_id = await _deployed(api, transform_graph())
    for wait in ("0", "-1", "301", "soon"):
        response = await api.post(
            f"/api/workflows/{workflow_id}/executions?wait={wait}", json={"input": {"n": 1}}
        )
        assert response.status_code == 422, (wait, response.text)
    too_long = await api.post(
        f"/api/workflows/{workflow_id}/executions?wait=31", json={"input": {"n": 1}}
    )
    assert too_long.status_code == 422
    assert "at most 30 seconds (RUNLOOM_WEBHOOK_MAX_WAIT_S)" in too_long.text
    runs = await api.ok("GET", f"/api/executions?workflow_id={workflow_id}")
    assert runs["executions"] == []


async def test_another_users_workflow_is_404_with_wait(sign_up: SignUp) -> None:
    owner, other = await sign_up(), await sign_up()
    workflow_id = await _deployed(owner, transform_graph())
    response = await other.post(
        f"/api/workflows/{workflow_id}/executions?wait=5", json={"input": {"n": 1}}
    )
    assert response.status_code == 404, response.text
