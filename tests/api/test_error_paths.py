"""Error paths on the live stack: error edges that handle a failing python or http node
(python in the real sandbox runner), the graph's execution timeout (built and scheduled
runs), and the project's failure webhook, which goes through the egress guard."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from temporalio.client import Client

from tests.api.conftest import Api, SignUp
from tests.api.graphs import failing_graph, sleepy_graph, transform_graph
from tests.api.helpers import new_project, new_workflow, wait_for_end
from tests.echo_server import EchoServer
from tests.live import LiveStack


def _handled(failing: dict[str, Any], edge: dict[str, Any]) -> dict[str, Any]:
    """start -> <failing> -> next -> end, and <failing> --error--> handle -> end (a python
    node that reads `error`); the end returns what ran and the error in its scope."""
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            failing,
            {"id": "next", "type": "transform", "config": {"output": "fine"}},
            {
                "id": "handle",
                "type": "python",
                "config": {"code": "return f\"{error['node_id']}: {error['message']}\""},
            },
            {
                "id": "end",
                "type": "end",
                "config": {
                    "output": {"ran": "{{ steps.next or steps.handle }}", "error": "{{ error }}"}
                },
            },
        ],
        "edges": [
            {"source": "start", "target": "step"},
            {"source": "step", "target": "next"},
            {"source": "step", "target": "handle", **edge},
            {"source": "next", "target": "end"},
            {"source": "handle", "target": "end"},
        ],
    }


async def _build(api: Api, graph: dict[str, Any], name: str, input: Any = None) -> dict[str, Any]:
    project = await new_project(api, name)
    wid = await new_workflow(api, project["id"], graph)
    build = await api.ok("POST", f"/api/workflows/{wid}/build", 201, json={"input": input or {}})
    return {"project": project, "workflow_id": wid, **build}


def _statuses(execution: dict[str, Any]) -> dict[str, str]:
    return {node: state["status"] for node, state in execution["node_states"].items()}


async def test_an_error_edge_handles_a_failing_python_node(sign_up: SignUp) -> None:
    api = await sign_up()
    failing = {"id": "step", "type": "python", "config": {"code": "raise KeyError('sku-17')"}}
    built = await _build(api, _handled(failing, {"branch": "error"}), "py-errors")
    execution = await wait_for_end(api, built["execution_id"])
    assert execution["status"] == "completed", execution
    error = {"type": "KeyError", "message": "'sku-17'", "node_id": "step"}
    assert execution["output"] == {"ran": "step: 'sku-17'", "error": error}
    assert _statuses(execution) == {
        "start": "completed",
        "step": "failed",  # red on the canvas, yet the run completed
        "next": "skipped",
        "handle": "completed",
        "end": "completed",
    }
    assert execution["node_states"]["step"]["error"] == "KeyError: 'sku-17'"


async def test_an_error_edge_handles_a_failing_http_node(sign_up: SignUp) -> None:
    api = await sign_up()
    # Loopback outside the allowed port: the guard refuses, a failure no retry changes.
    failing = {
        "id": "step",
        "type": "http_request",
        "config": {"url": "http://127.0.0.1:9/private"},
        "retry": {"maximum_attempts": 2, "initial_interval_s": 0.1},
    }
    built = await _build(api, _handled(failing, {"on_error": True}), "http-errors")
    execution = await wait_for_end(api, built["execution_id"])
    assert execution["status"] == "completed", execution
    error = execution["output"]["error"]
    assert error["type"] == "EgressDenied" and error["node_id"] == "step"
    assert "may not reach 127.0.0.1:9 (loopback)" in error["message"]
    assert execution["output"]["ran"] == f"step: {error['message']}"
    assert _statuses(execution)["step"] == "failed"
    assert _statuses(execution)["next"] == "skipped"


async def test_error_edge_problems_are_reported(sign_up: SignUp) -> None:
    api = await sign_up()
    project = await new_project(api, "bad-error-edges")
    graph = sleepy_graph(1)
    graph["nodes"].append({"id": "h", "type": "transform", "config": {"output": 1}})
    graph["edges"] += [
        {"source": "wait", "target": "h", "branch": "error"},  # a delay cannot fail
        {"source": "work", "target": "h", "branch": "error"},
        {"source": "work", "target": "end", "on_error": True},  # a second error edge
        {"source": "h", "target": "end"},
    ]
    graph["settings"] = {"execution_timeout_s": 0}
    wid = await new_workflow(api, project["id"], graph)
    answer = await api.post(f"/api/workflows/{wid}/compile")
    assert answer.status_code == 422, answer.text
    codes = {(p["code"], p.get("node_id")) for p in answer.json()["problems"]}
    assert ("error_edge_not_allowed", "wait") in codes
    assert ("multiple_error_edges", "work") in codes
    assert ("out_of_range", None) in codes


# --- the workflow's execution timeout -----------------------------------------------------


def _timed(seconds: float) -> dict[str, Any]:
    graph = sleepy_graph(10)
    graph["settings"] = {"execution_timeout_s": seconds}
    return graph


async def test_a_run_over_its_execution_timeout_ends_timed_out(
    sign_up: SignUp, temporal_client: Client
) -> None:
    api = await sign_up()
    built = await _build(api, _timed(2), "timeouts", {"n": 1})
    started = time.monotonic()
    execution = await wait_for_end(api, built["execution_id"], within_s=30)
    assert execution["status"] == "timed_out", execution
    assert time.monotonic() - started < 9  # well before the 10 s delay would have ended
    handle = temporal_client.get_workflow_handle(built["temporal_workflow_id"])
    described = await handle.describe()
    assert described.raw_description.execution_config.workflow_execution_timeout.seconds == 2


async def test_a_scheduled_run_gets_the_execution_timeout_too(sign_up: SignUp) -> None:
    api = await sign_up()
    built = await _build(api, _timed(2), "scheduled-timeouts", {"n": 1})
    await wait_for_end(api, built["execution_id"], within_s=30)
    wid = built["workflow_id"]
    created = await api.ok(
        "POST",
        f"/api/workflows/{wid}/triggers",
        201,
        json={"type": "schedule", "cron": "0 0 1 1 *", "timezone": "UTC", "input": {"n": 2}},
    )
    await api.ok("POST", f"/api/triggers/{created['trigger']['id']}/run", 202)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        runs = (await api.ok("GET", f"/api/executions?workflow_id={wid}&limit=50"))["executions"]
        scheduled = [r for r in runs if r["triggered_by"] == "schedule"]
        if scheduled and scheduled[0]["status"] not in ("pending", "running"):
            assert scheduled[0]["status"] == "timed_out", scheduled[0]
            return
        await asyncio.sleep(0.25)
    raise AssertionError("the scheduled run did not end")


# --- the project's failure webhook --------------------------------------------------------


async def _notices(echo: EchoServer, *, count: int, within_s: float = 30) -> list[dict[str, Any]]:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        posted = [r for r in echo.requests if r["path"].startswith("/hooks/failed")]
        if len(posted) >= count:
            return [json.loads(r["body"]) for r in posted]
        await asyncio.sleep(0.2)
    raise AssertionError(f"{count} failure notice(s) did not arrive: {echo.requests}")


async def test_the_failure_webhook_url_is_checked(sign_up: SignUp) -> None:
    api = await sign_up()
    project = await new_project(api, "webhook-setting")
    path = f"/api/projects/{project['id']}"
    for bad in ("ftp://example.test/x", "https://", "not a url", "https://a.test/" + "x" * 2048):
        answer = await api.patch(path, json={"failure_webhook_url": bad})
        assert answer.status_code == 422, (bad, answer.text)
        assert "failure_webhook_url" in answer.json()["detail"]
        assert "must be an http:// or https:// URL" in answer.json()["detail"]
    url = "https://hooks.example.test/runloom?token=t"
    saved = await api.ok("PATCH", path, json={"failure_webhook_url": url})
    assert saved["project"]["failure_webhook_url"] == url
    renamed = await api.ok("PATCH", path, json={"name": "renamed"})
    assert renamed["project"]["failure_webhook_url"] == url  # other changes keep it
    cleared = await api.ok("PATCH", path, json={"failure_webhook_url": None})
    assert cleared["project"]["failure_webhook_url"] is None
    other = await sign_up()
    assert (await other.patch(path, json={"failure_webhook_url": url})).status_code == 404


async def test_the_failure_webhook_receives_failed_runs(
    sign_up: SignUp, echo: EchoServer, live_stack: LiveStack
) -> None:
    api = await sign_up()
    project = await new_project(api, "notify-me")
    hook = f"http://127.0.0.1:{echo.port}/hooks/failed?token=t0k"
    await api.ok("PATCH", f"/api/projects/{project['id']}", json={"failure_webhook_url": hook})
    fine = await new_workflow(api, project["id"], transform_graph(2), name="fine")
    fine_run = await api.ok("POST", f"/api/workflows/{fine}/build", 201, json={"input": {"n": 1}})
    assert (await wait_for_end(api, fine_run["execution_id"]))["status"] == "completed"
    wid = await new_workflow(api, project["id"], failing_graph("stock ran out"), name="orders")
    build = await api.ok("POST", f"/api/workflows/{wid}/build", 201, json={"input": {}})
    assert (await wait_for_end(api, build["execution_id"]))["status"] == "failed"

    (body,) = await _notices(echo, count=1)
    assert body == {
        "event": "run.failed",
        "execution_id": build["execution_id"],
        "workflow_id": wid,
        "workflow_name": "orders",
        "project_id": project["id"],
        "status": "failed",
        "error": body["error"],
        # RUNLOOM_PUBLIC_URL is unset on the live stack: the API's own address.
        "url": f"{live_stack.url}/workflows/{wid}?run={build['execution_id']}",
    }
    assert "stock ran out" in body["error"]
    (request,) = [r for r in echo.requests if r["path"].startswith("/hooks/failed")]
    assert request["method"] == "POST" and request["path"] == "/hooks/failed?token=t0k"

    timed = await new_workflow(api, project["id"], _timed(1), name="slow")
    slow = await api.ok("POST", f"/api/workflows/{timed}/build", 201, json={"input": {"n": 1}})
    assert (await wait_for_end(api, slow["execution_id"]))["status"] == "timed_out"
    notices = await _notices(echo, count=2)
    assert notices[1]["status"] == "timed_out"
    assert notices[1]["execution_id"] == slow["execution_id"]


async def test_a_failure_webhook_at_the_platform_is_refused(
    sign_up: SignUp, live_stack: LiveStack
) -> None:
    api = await sign_up()
    project = await new_project(api, "notify-attacker")
    wid = await new_workflow(api, project["id"], failing_graph("x"))
    targets = {
        f"http://127.0.0.1:{live_stack.port}/api/health": "(platform address)",  # the API
        "http://169.254.169.254/latest/meta-data/": "(link-local)",
        "http://localhost:9/": "(address 127.0.0.1) (loopback)",  # a name for loopback
    }
    for target, reason in targets.items():
        await api.ok(
            "PATCH", f"/api/projects/{project['id']}", json={"failure_webhook_url": target}
        )
        build = await api.ok("POST", f"/api/workflows/{wid}/build", 201, json={"input": {}})
        assert (await wait_for_end(api, build["execution_id"]))["status"] == "failed"
        refusal = f"failure notice of execution {build['execution_id']} refused, nothing sent"
        deadline = time.monotonic() + 20
        while refusal not in live_stack.log:
            assert time.monotonic() < deadline, live_stack.log[-3000:]
            await asyncio.sleep(0.2)
        line = next(x for x in live_stack.log.splitlines() if refusal in x)
        assert reason in line, line
