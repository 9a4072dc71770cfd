"""Runs over HTTP: live events, failures, signals, cancel, versions, rollback, export."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from tests.api.conftest import Api, SignUp
from tests.api.graphs import failing_graph, sleepy_graph, transform_graph
from tests.api.helpers import new_project, new_workflow, wait_for_end


async def _events(api: Api, execution_id: str) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    # EventSource cannot send headers: the browser opens the stream with a single-use
    # ticket, never with its login token in the URL.
    ticket = (await api.ok("POST", f"/api/executions/{execution_id}/stream-ticket"))["ticket"]
    async with api.client.stream(
        "GET",
        f"/api/executions/{execution_id}/events",
        params={"ticket": ticket},
        headers={"Authorization": ""},
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        kind = None
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: ") and kind is not None:
                events.append((kind, json.loads(line.removeprefix("data: "))))
                if kind == "end":
                    break
    return events


async def test_an_sse_client_sees_running_node_changes_then_completed(sign_up: SignUp) -> None:
    api = await sign_up()
    project = await new_project(api, "live")
    wid = await new_workflow(api, project["id"], sleepy_graph(1.5))
    build = await api.ok("POST", f"/api/workflows/{wid}/build", 201, json={"input": {"n": 7}})
    events = await _events(api, build["execution_id"])
    statuses = [data["status"] for kind, data in events if kind == "execution"]
    assert statuses[0] == "running" and statuses[-1] == "completed"
    assert events[-1][0] == "end"
    wait_states = [
        data["node_states"].get("wait", {}).get("status")
        for kind, data in events
        if kind == "execution"
    ]
    assert "running" in wait_states and wait_states[-1] == "completed"
    assert events[-2][1]["output"] == {"n": 7}


async def test_a_failed_run_carries_the_error_of_the_failed_node(sign_up: SignUp) -> None:
    api = await sign_up()
    project = await new_project(api, "fails")
    wid = await new_workflow(api, project["id"], failing_graph("the order total is negative"))
    build = await api.ok("POST", f"/api/workflows/{wid}/build", 201, json={})
    execution = await wait_for_end(api, build["execution_id"])
    assert execution["status"] == "failed"
    assert "the order total is negative" in execution["error"]
    assert execution["node_states"]["boom"]["status"] == "failed"
    stats = await api.ok("GET", f"/api/projects/{project['id']}/stats")
    assert stats["workflows"][0]["error_count"] == 1
    assert stats["activities"][0]["failure_count"] >= 1


async def test_signal_and_cancel(sign_up: SignUp) -> None:
    api = await sign_up()
    project = await new_project(api, "approvals")
    graph = {
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "approve",
                "type": "wait_for_signal",
                "config": {"signal": "approve", "timeout_s": 120},
            },
            {"id": "end", "type": "end", "config": {"output": "{{ steps.approve }}"}},
        ],
        "edges": [{"source": "start", "target": "approve"}, {"source": "approve", "target": "end"}],
    }
    wid = await new_workflow(api, project["id"], graph)
    first = await api.ok("POST", f"/api/workflows/{wid}/build", 201, json={})
    await api.ok(
        "POST",
        f"/api/executions/{first['execution_id']}/signal",
        202,
        json={"name": "approve", "payload": {"by": "ada"}},
    )
    assert (await wait_for_end(api, first["execution_id"]))["output"] == {"by": "ada"}
    ended = await api.post(f"/api/executions/{first['execution_id']}/cancel")
    assert ended.status_code == 422 and "already ended" in ended.json()["detail"]

    second = await api.ok("POST", f"/api/workflows/{wid}/executions", 201, json={})
    second_id = second["execution"]["id"]
    await api.ok("POST", f"/api/executions/{second_id}/cancel", 202)
    assert (await wait_for_end(api, second_id))["status"] == "cancelled"


async def test_versions_rollback_and_export(sign_up: SignUp) -> None:
    api = await sign_up()
    project = await new_project(api, "versions")
    wid = await new_workflow(api, project["id"], transform_graph(2))
    v1 = await api.ok("POST", f"/api/workflows/{wid}/deploy", 201)
    again = await api.ok("POST", f"/api/workflows/{wid}/deploy", 201)
    assert (v1["version"], again["version"], again["created"]) == (1, 1, False)
    await api.ok("PUT", f"/api/workflows/{wid}", json={"graph": transform_graph(5)})
    v2 = await api.ok("POST", f"/api/workflows/{wid}/deploy", 201)
    assert v2["version"] == 2
    versions = (await api.ok("GET", f"/api/workflows/{wid}/versions"))["versions"]
    assert [(v["version"], v["is_active"]) for v in versions] == [(2, True), (1, False)]
    assert "@v2" in versions[0]["workflow_code"] and "@v1" in versions[1]["workflow_code"]

    run = await api.ok("POST", f"/api/workflows/{wid}/executions", 201, json={"input": {"n": 1}})
    assert (await wait_for_end(api, run["execution"]["id"]))["output"] == {"result": 6}
    await api.ok("POST", f"/api/workflows/{wid}/versions/1/activate")
    run = await api.ok("POST", f"/api/workflows/{wid}/executions", 201, json={"input": {"n": 1}})
    assert run["execution"]["code_version"] == 1
    assert (await wait_for_end(api, run["execution"]["id"]))["output"] == {"result": 3}

    export = await api.get(f"/api/workflows/{wid}/export", params={"version": 2})
    assert export.status_code == 200
    assert export.headers["content-type"] == "application/zip"
    names = set(zipfile.ZipFile(io.BytesIO(export.content)).namelist())
    assert {"workflow.py", "activities.py", "worker.py", "requirements.txt", "README.md"} <= names
