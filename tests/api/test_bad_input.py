"""Bad input answers 4xx with words that say what to fix, never 500, and stores nothing."""

from __future__ import annotations

import uuid

from tests.api.conftest import SignUp
from tests.api.helpers import new_project, new_workflow


async def test_malformed_and_mistyped_bodies(sign_up: SignUp) -> None:
    api = await sign_up()
    malformed = await api.client.post(
        "/api/projects", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 422 and "JSON" in malformed.json()["detail"]
    wrong_type = await api.post("/api/projects", json={"name": 42})
    assert wrong_type.status_code == 422 and "name" in wrong_type.json()["detail"]
    blank = await api.post("/api/projects", json={"name": "   "})
    assert blank.status_code == 422
    unknown_field = await api.post("/api/projects", json={"name": "x", "colour": "red"})
    assert unknown_field.status_code == 422 and "colour" in unknown_field.json()["detail"]
    duplicate = await api.post("/api/projects", json={"name": "Default"})
    assert duplicate.status_code == 409 and "already have a project" in duplicate.json()["detail"]


async def test_unknown_and_invalid_ids(sign_up: SignUp) -> None:
    api = await sign_up()
    missing = uuid.uuid4()
    for path in (
        f"/api/projects/{missing}",
        f"/api/workflows/{missing}",
        f"/api/executions/{missing}",
    ):
        response = await api.get(path)
        assert response.status_code == 404 and str(missing) in response.json()["detail"]
    invalid = await api.get("/api/projects/not-a-uuid")
    assert invalid.status_code == 422 and "UUID" in invalid.json()["detail"]
    no_project = await api.post(
        "/api/workflows", json={"project_id": str(missing), "name": "orphan"}
    )
    assert no_project.status_code == 404
    needs_project = await api.post("/api/workflows", json={"name": "orphan"})
    assert needs_project.status_code == 422 and "project_id" in needs_project.json()["detail"]


async def test_oversized_bodies_are_refused(sign_up: SignUp) -> None:
    api = await sign_up()
    huge = {"name": "big", "description": "x" * (2 * 1024 * 1024)}
    response = await api.post("/api/projects", json=huge)
    assert response.status_code == 413 and "larger than" in response.json()["detail"]


async def test_an_invalid_graph_lists_every_problem_and_stores_no_version(sign_up: SignUp) -> None:
    api = await sign_up()
    project = await new_project(api, "p")
    graph = {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "mystery", "type": "teleport"},
            {"id": "code", "type": "python", "config": {"code": "return ("}},
        ],
        "edges": [{"source": "start", "target": "code"}, {"source": "code", "target": "ghost"}],
    }
    wid = await new_workflow(api, project["id"], graph)
    for action in ("compile", "deploy", "build"):
        response = await api.post(f"/api/workflows/{wid}/{action}", json={})
        assert response.status_code == 422, action
        problems = response.json()["problems"]
        nodes = {p["node_id"] for p in problems}
        assert {"mystery", "code"} <= nodes, problems
        assert any("ghost" in p["message"] for p in problems)
    assert (await api.ok("GET", f"/api/workflows/{wid}/versions"))["versions"] == []
    assert (await api.ok("GET", f"/api/executions?workflow_id={wid}"))["executions"] == []
    never_deployed = await api.post(f"/api/workflows/{wid}/executions", json={})
    assert never_deployed.status_code == 404 and "deploy" in never_deployed.json()["detail"]
