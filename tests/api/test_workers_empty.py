"""A project with no deployed workflow has no worker, and says so."""

from __future__ import annotations

import asyncio

from tests.api.conftest import SignUp
from tests.api.helpers import new_project, new_workflow

GRAPH = {
    "nodes": [{"id": "start", "type": "start"}, {"id": "end", "type": "end"}],
    "edges": [{"source": "start", "target": "end"}],
}


async def test_start_of_a_project_with_nothing_deployed_answers_409_and_leaves_no_row(
    sign_up: SignUp,
) -> None:
    api = await sign_up()
    project = await new_project(api, "empty")
    assert project["deployed_workflow_count"] == 0
    await new_workflow(api, project["id"], GRAPH)  # a draft is not deployed
    for action in ("start", "restart"):
        response = await api.post(f"/api/projects/{project['id']}/workers/{action}")
        assert response.status_code == 409, response.text
        assert "no workflow deployed yet" in response.json()["detail"]
    await asyncio.sleep(1.5)  # a manager that heard of it would have spawned by now
    workers = await api.ok("GET", f"/api/projects/{project['id']}/workers")
    assert workers["workers"] == []
    again = (await api.ok("GET", f"/api/projects/{project['id']}"))["project"]
    assert again["workers"] == [] and again["deployed_workflow_count"] == 0


async def test_a_built_workflow_counts_as_deployed(sign_up: SignUp) -> None:
    api = await sign_up()
    project = await new_project(api, "built")
    workflow_id = await new_workflow(api, project["id"], GRAPH)
    await api.ok("POST", f"/api/workflows/{workflow_id}/deploy", 201)
    again = (await api.ok("GET", f"/api/projects/{project['id']}"))["project"]
    assert again["deployed_workflow_count"] == 1
    listed = (await api.ok("GET", "/api/projects"))["projects"]
    assert [p["deployed_workflow_count"] for p in listed if p["id"] == project["id"]] == [1]
