"""Project secrets at run time, through the API of a running runloom (real Postgres, real
Temporal, the project's real worker): a secret reaches the server an http node calls and
the code of a python node, and its value is in nothing runloom or Temporal keeps; a new
value is used by the very next run of the same worker process; a graph naming a secret
the project lacks is refused at build, on its node, and leaves no version."""

from __future__ import annotations

import io
import secrets
import zipfile
from typing import Any

import pytest
from temporalio.client import Client

from tests.api.conftest import Api, SignUp
from tests.api.helpers import new_project, new_workflow, wait_for_end
from tests.echo_server import EchoServer
from tests.history import history_text

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def secret_graph(url: str, *, name: str = "API_TOKEN") -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "call",
                "type": "http_request",
                "config": {
                    "method": "POST",
                    "url": url + "/orders/{{ input.id }}",
                    "headers": {"Authorization": f"Bearer {{{{ secrets.{name} }}}}"},
                    "body": {"id": "{{ input.id }}"},
                },
                "retry": {"maximum_attempts": 1},
            },
            {
                "id": "code",
                "type": "python",
                "config": {
                    "code": "token = secrets['API_TOKEN']\n"
                    "print('using', token)\n"
                    "return {'token': token, 'length': len(token)}"
                },
            },
            {
                "id": "end",
                "type": "end",
                "config": {
                    "output": {
                        "echoed": "{{ steps.call.body.headers.authorization }}",
                        "code": "{{ steps.code }}",
                    }
                },
            },
        ],
        "edges": [
            {"source": "start", "target": "call"},
            {"source": "call", "target": "code"},
            {"source": "code", "target": "end"},
        ],
    }


async def _running_worker(api: Api, project_id: str) -> dict[str, Any]:
    workers = (await api.ok("GET", f"/api/projects/{project_id}/workers"))["workers"]
    running = [w for w in workers if w["status"] == "running"]
    assert len(running) == 1, workers
    worker: dict[str, Any] = running[0]
    return worker


async def _run(api: Api, workflow_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    run = await api.ok(
        "POST", f"/api/workflows/{workflow_id}/executions", 201, json={"input": payload}
    )
    return await wait_for_end(api, run["execution"]["id"], within_s=90)


async def _everything_kept(
    api: Api, client: Client, workflow_id: str, executions: list[dict[str, Any]]
) -> dict[str, str]:
    """What runloom and Temporal keep of the workflow and its runs, as text by place."""
    kept = {
        "graph": (await api.get(f"/api/workflows/{workflow_id}")).text,
        "versions (the compiled code)": (
            await api.get(f"/api/workflows/{workflow_id}/versions")
        ).text,
    }
    exported = await api.get(f"/api/workflows/{workflow_id}/export")
    assert exported.status_code == 200
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        for name in archive.namelist():
            kept[f"export {name}"] = archive.read(name).decode("utf-8", "replace")
    for execution in executions:
        kept[f"run {execution['id']}"] = (await api.get(f"/api/executions/{execution['id']}")).text
        kept[f"history {execution['id']}"] = await history_text(
            client, execution["temporal_workflow_id"]
        )
    return kept


async def test_a_secret_is_used_at_run_time_and_kept_nowhere(
    sign_up: SignUp, echo: EchoServer, temporal_client: Client
) -> None:
    api = await sign_up()
    project = await new_project(api, "with-secrets")
    first_value, second_value = f"tok-{secrets.token_hex(12)}", f"tok-{secrets.token_hex(12)}"
    await api.ok(
        "PUT", f"/api/projects/{project['id']}/secrets/API_TOKEN", json={"value": first_value}
    )
    workflow_id = await new_workflow(api, project["id"], secret_graph(echo.url), name="uses")
    build = await api.ok(
        "POST", f"/api/workflows/{workflow_id}/build", 201, json={"input": {"id": 1}}
    )
    first = await wait_for_end(api, build["execution_id"], within_s=90)
    assert first["status"] == "completed", first
    assert first["output"] == {
        "echoed": "Bearer ***",
        "code": {"token": "***", "length": len(first_value)},
    }
    sent = [r for r in echo.requests if r["path"] == "/orders/1"]
    assert [r["headers"]["authorization"] for r in sent] == [f"Bearer {first_value}"]
    worker = await _running_worker(api, project["id"])

    # A new value: the very next run uses it, in the same worker process (no restart).
    await api.ok(
        "PUT", f"/api/projects/{project['id']}/secrets/API_TOKEN", json={"value": second_value}
    )
    second = await _run(api, workflow_id, {"id": 2})
    assert second["status"] == "completed", second
    assert second["output"]["echoed"] == "Bearer ***"
    sent = [r for r in echo.requests if r["path"] == "/orders/2"]
    assert [r["headers"]["authorization"] for r in sent] == [f"Bearer {second_value}"]
    again = await _running_worker(api, project["id"])
    assert (again["worker_id"], again["process_id"]) == (worker["worker_id"], worker["process_id"])

    kept = await _everything_kept(api, temporal_client, workflow_id, [first, second])
    assert "Bearer ***" in kept[f"history {first['id']}"]  # the history was read, decoded
    assert "secrets.API_TOKEN" in kept["export activities.py"]
    for place, text in kept.items():
        for value in (first_value, second_value):
            assert value not in text, f"a secret's value is in the {place}"


async def test_a_missing_secret_is_refused_at_build_and_leaves_no_version(
    sign_up: SignUp, echo: EchoServer
) -> None:
    api = await sign_up()
    project = await new_project(api, "missing-secret")
    await api.ok("PUT", f"/api/projects/{project['id']}/secrets/API_TOKEN", json={"value": "t0k3n"})
    workflow_id = await new_workflow(
        api, project["id"], secret_graph(echo.url, name="NOT_SET"), name="refused"
    )
    for action, body in (("compile", None), ("build", {"input": {}})):
        refused = await api.post(f"/api/workflows/{workflow_id}/{action}", json=body)
        assert refused.status_code == 422, refused.text
        problems = refused.json()["problems"]
        assert [(p["code"], p["node_id"]) for p in problems] == [("unknown_secret", "call")]
        assert "'NOT_SET'" in problems[0]["message"] and "Secrets tab" in problems[0]["message"]
    versions = await api.ok("GET", f"/api/workflows/{workflow_id}/versions")
    assert versions["versions"] == []
    runs = await api.ok("GET", "/api/executions", params={"workflow_id": workflow_id})
    assert runs["executions"] == []
