"""Recovering runs through the API of a running runloom (real Postgres, real Temporal, the
project's real worker): a retry continues a failed run from its failed step without
executing the steps before it again (checked in Temporal's history) and keeps their
outputs; a re-run starts the same input on an older or the active version; terminate
ends an open run; and what cannot be recovered is refused with a reason."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from tests.api.conftest import Api, SignUp
from tests.api.graphs import sleepy_graph, transform_graph
from tests.api.helpers import new_project, new_workflow, wait_for_end
from tests.echo_server import EchoServer
from tests.history import history_text

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def flaky_graph(url: str) -> dict[str, Any]:
    """A python step whose output cannot be computed twice alike, then an http step that
    fails at once on a 500 (one attempt), then both outputs."""
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "prepare",
                "type": "python",
                "config": {
                    "code": "import secrets\n"
                    "return {'n': input['n'], 'nonce': secrets.token_hex(8)}"
                },
            },
            {
                "id": "call",
                "type": "http_request",
                "config": {"method": "GET", "url": url, "fail_on_status": True},
                "retry": {"maximum_attempts": 1},
            },
            {
                "id": "end",
                "type": "end",
                "config": {
                    "output": {"prepared": "{{ steps.prepare }}", "called": "{{ steps.call.body }}"}
                },
            },
        ],
        "edges": [
            {"source": "start", "target": "prepare"},
            {"source": "prepare", "target": "call"},
            {"source": "call", "target": "end"},
        ],
    }


async def _events(client: Client, execution: dict[str, Any]) -> list[HistoryEvent]:
    handle = client.get_workflow_handle(
        execution["temporal_workflow_id"], run_id=execution["temporal_run_id"]
    )
    return list((await handle.fetch_history()).events)


def _scheduled(events: list[HistoryEvent], suffix: str) -> list[int]:
    """Ids of the ActivityTaskScheduled events of the node whose activity type ends so."""
    return [
        e.event_id
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name.endswith(suffix)
    ]


def _reset_marker(events: list[HistoryEvent]) -> int:
    markers = [
        e.event_id
        for e in events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
        and e.workflow_task_failed_event_attributes.cause
        == WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW
    ]
    assert len(markers) == 1, markers
    return markers[0]


async def test_retry_continues_from_the_failed_http_step(
    sign_up: SignUp, echo: EchoServer, temporal_client: Client
) -> None:
    api = await sign_up()
    project = await new_project(api, "retries")
    echo.reset(statuses=[500])  # the first call fails, every later one succeeds
    graph = flaky_graph(f"{echo.url}/flaky")
    wid = await new_workflow(api, project["id"], graph)
    build = await api.ok("POST", f"/api/workflows/{wid}/build", 201, json={"input": {"n": 3}})
    failed = await wait_for_end(api, build["execution_id"])
    assert failed["status"] == "failed", failed
    assert failed["node_states"]["call"]["status"] == "failed"
    assert len(echo.requests) == 1

    retry = (await api.ok("POST", f"/api/executions/{failed['id']}/retry", 201))["execution"]
    assert retry["retry_of"] == failed["id"] and retry["id"] != failed["id"]
    assert retry["temporal_workflow_id"] == failed["temporal_workflow_id"]
    assert retry["temporal_run_id"] != failed["temporal_run_id"]
    assert (retry["code_version"], retry["input"]) == (failed["code_version"], {"n": 3})
    done = await wait_for_end(api, retry["id"])
    assert done["status"] == "completed", done
    assert done["output"]["called"]["call"] == 2 and done["output"]["called"]["path"] == "/flaky"
    assert len(echo.requests) == 2  # exactly one more call: the failed step, once
    assert {n: s["status"] for n, s in done["node_states"].items()}.items() >= {
        "prepare": "completed",
        "call": "completed",
        "end": "completed",
    }.items()

    # The python step was not executed again: its output is the original's, replayed
    # from the history the reset kept, and the reset run never scheduled it.
    nonce = done["output"]["prepared"]["nonce"]
    assert done["output"]["prepared"]["n"] == 3
    original_history = await _events(temporal_client, failed)
    retry_history = await _events(temporal_client, done)
    marker = _reset_marker(retry_history)
    assert _scheduled(original_history, ".prepare") == _scheduled(retry_history, ".prepare")
    assert all(event_id < marker for event_id in _scheduled(retry_history, ".prepare"))
    assert [i for i in _scheduled(retry_history, ".call") if i > marker]
    assert nonce in await history_text(temporal_client, failed["temporal_workflow_id"])

    # The failed run keeps its end; its step figures are not counted twice.
    assert (await api.ok("GET", f"/api/executions/{failed['id']}"))["execution"]["status"] == (
        "failed"
    )
    stats = await api.ok("GET", f"/api/projects/{project['id']}/stats")
    by_name = {a["activity_name"].rsplit(".", 1)[-1]: a for a in stats["activities"]}
    assert by_name["prepare"]["execution_count"] == 1
    assert (by_name["call"]["success_count"], by_name["call"]["failure_count"]) == (1, 1)

    # A completed run has nothing to retry.
    again = await api.post(f"/api/executions/{done['id']}/retry")
    assert again.status_code == 409 and "completed" in again.json()["detail"]


async def test_rerun_on_an_older_version_and_on_the_active_one(sign_up: SignUp) -> None:
    api = await sign_up()
    project = await new_project(api, "reruns")
    wid = await new_workflow(api, project["id"], transform_graph(2))
    await api.ok("POST", f"/api/workflows/{wid}/deploy", 201)
    first = await api.ok("POST", f"/api/workflows/{wid}/executions", 201, json={"input": {"n": 1}})
    first_id = first["execution"]["id"]
    assert (await wait_for_end(api, first_id))["output"] == {"result": 3}
    await api.ok("PUT", f"/api/workflows/{wid}", json={"graph": transform_graph(5)})
    assert (await api.ok("POST", f"/api/workflows/{wid}/deploy", 201))["version"] == 2

    # v2 runs first: the worker then serves v2 alone (no run of v1 is open), so the re-run
    # on v1 must have the worker load v1 again.
    active = (await api.ok("POST", f"/api/executions/{first_id}/rerun", 201, json={}))["execution"]
    assert (active["code_version"], active["input"], active["rerun_of"]) == (2, {"n": 1}, first_id)
    assert (await wait_for_end(api, active["id"]))["output"] == {"result": 6}

    old = (await api.ok("POST", f"/api/executions/{first_id}/rerun", 201, json={"version": 1}))[
        "execution"
    ]
    assert (old["code_version"], old["input"], old["rerun_of"]) == (1, {"n": 1}, first_id)
    assert old["retry_of"] is None
    assert (await wait_for_end(api, old["id"]))["output"] == {"result": 3}

    missing = await api.post(f"/api/executions/{first_id}/rerun", json={"version": 9})
    assert missing.status_code == 404 and "no version 9" in missing.json()["detail"]
    completed = await api.post(f"/api/executions/{first_id}/retry")
    assert completed.status_code == 409
    assert "completed" in completed.json()["detail"] and "re-run" in completed.json()["detail"]


async def _until_waiting(client: Client, api: Api, execution_id: str) -> None:
    """Until the run's delay step has started its timer (the worker has picked it up)."""
    execution = (await api.ok("GET", f"/api/executions/{execution_id}"))["execution"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        events = await _events(client, execution)
        if any(e.event_type == EventType.EVENT_TYPE_TIMER_STARTED for e in events):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"execution {execution_id} did not start waiting")


async def test_terminate_and_retry_of_a_waiting_run(
    sign_up: SignUp, temporal_client: Client
) -> None:
    api = await sign_up()
    project = await new_project(api, "waits")
    wid = await new_workflow(api, project["id"], sleepy_graph(600))
    build = await api.ok("POST", f"/api/workflows/{wid}/build", 201, json={"input": {"n": 1}})
    run_id = build["execution_id"]
    await _until_waiting(temporal_client, api, run_id)

    running = await api.post(f"/api/executions/{run_id}/retry")
    assert running.status_code == 409 and "still running" in running.json()["detail"]
    await api.ok("POST", f"/api/executions/{run_id}/terminate", 202, json={"reason": "stuck"})
    assert (await wait_for_end(api, run_id))["status"] == "terminated"
    ended = await api.post(f"/api/executions/{run_id}/terminate", json={})
    assert ended.status_code == 422 and "already ended" in ended.json()["detail"]

    # A terminated run continues from where it stopped: it waits again.
    retry = (await api.ok("POST", f"/api/executions/{run_id}/retry", 201))["execution"]
    assert (retry["retry_of"], retry["status"]) == (run_id, "running")
    busy = await api.post(f"/api/executions/{run_id}/retry")
    assert busy.status_code == 409 and retry["id"] in busy.json()["detail"]
    await api.ok("POST", f"/api/executions/{retry['id']}/terminate", 202, json={})
    assert (await wait_for_end(api, retry["id"]))["status"] == "terminated"
    assert (await api.ok("GET", f"/api/executions/{run_id}"))["execution"]["status"] == (
        "terminated"
    )


async def test_another_users_run_cannot_be_recovered(sign_up: SignUp) -> None:
    owner, stranger = await sign_up(), await sign_up()
    project = await new_project(owner, "mine")
    wid = await new_workflow(owner, project["id"], sleepy_graph(600))
    build = await owner.ok("POST", f"/api/workflows/{wid}/build", 201, json={"input": {"n": 1}})
    run_id = build["execution_id"]
    for path, body in [("retry", None), ("rerun", {}), ("terminate", {})]:
        response = await stranger.post(f"/api/executions/{run_id}/{path}", json=body)
        assert response.status_code == 404, (path, response.text)
    await owner.ok("POST", f"/api/executions/{run_id}/terminate", 202, json={})
    assert (await wait_for_end(owner, run_id))["status"] == "terminated"
