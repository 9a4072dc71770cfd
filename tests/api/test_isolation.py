"""User B, holding user A's ids, gets 404 (or 403) everywhere and none of A's data."""

from __future__ import annotations

from tests.api.conftest import SignUp
from tests.api.graphs import transform_graph
from tests.api.helpers import new_project, new_workflow, wait_for_end


async def test_every_route_hides_user_a_objects_from_user_b(sign_up: SignUp) -> None:
    a, b = await sign_up(), await sign_up()
    project = await new_project(a, "secret project")
    pid = project["id"]
    wid = await new_workflow(a, pid, transform_graph())
    build = await a.ok("POST", f"/api/workflows/{wid}/build", 201, json={"input": {"n": 1}})
    eid = build["execution_id"]
    await wait_for_end(a, eid)

    calls = [
        ("GET", f"/api/projects/{pid}", None),
        ("PATCH", f"/api/projects/{pid}", {"name": "mine now"}),
        ("DELETE", f"/api/projects/{pid}", None),
        ("GET", f"/api/projects/{pid}/stats", None),
        ("GET", f"/api/projects/{pid}/workers", None),
        ("POST", f"/api/projects/{pid}/workers/start", None),
        ("POST", f"/api/projects/{pid}/workers/stop", None),
        ("POST", f"/api/projects/{pid}/workers/restart", None),
        ("GET", f"/api/workflows?project_id={pid}", None),
        ("POST", "/api/workflows", {"project_id": pid, "name": "intruder"}),
        ("GET", f"/api/workflows/{wid}", None),
        ("PUT", f"/api/workflows/{wid}", {"graph": transform_graph(9)}),
        ("DELETE", f"/api/workflows/{wid}", None),
        ("POST", f"/api/workflows/{wid}/compile", None),
        ("POST", f"/api/workflows/{wid}/deploy", None),
        ("POST", f"/api/workflows/{wid}/build", {"input": {}}),
        ("POST", f"/api/workflows/{wid}/executions", {"input": {}}),
        ("GET", f"/api/workflows/{wid}/versions", None),
        ("POST", f"/api/workflows/{wid}/versions/1/activate", None),
        ("GET", f"/api/workflows/{wid}/export", None),
        ("GET", f"/api/executions?workflow_id={wid}", None),
        ("GET", f"/api/executions?project_id={pid}", None),
        ("GET", f"/api/executions/{eid}", None),
        ("GET", f"/api/executions/{eid}/events", None),
        ("POST", f"/api/executions/{eid}/signal", {"name": "approve"}),
        ("POST", f"/api/executions/{eid}/cancel", None),
    ]
    for method, path, body in calls:
        response = await b.client.request(method, path, json=body)
        assert response.status_code in (403, 404), (method, path, response.status_code)
        text = response.text
        assert "secret project" not in text and a.user_id not in text, (method, path)

    # B's own listings contain nothing of A's.
    assert all(p["id"] != pid for p in (await b.ok("GET", "/api/projects"))["projects"])
    assert (await b.ok("GET", "/api/workflows"))["workflows"] == []
    assert (await b.ok("GET", "/api/executions"))["executions"] == []
    # And A's objects are untouched.
    assert (await a.ok("GET", f"/api/projects/{pid}"))["project"]["name"] == "secret project"
    assert (await a.ok("GET", f"/api/workflows/{wid}"))["workflow"]["graph"] == transform_graph()
