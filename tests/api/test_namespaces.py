"""`runloom up` with RUNLOOM_NAMESPACE_MODE=per_user, end to end: two users each build
and run a workflow; each run lives in its user's namespace only (not the other's, not
the shared one), is followed to its end by the tracker, links to its namespace in the Web
UI, and its step details read from there; a schedule lives and fires in its user's
namespace too."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from runloom.services.namespaces import client_for
from runloom.stack.ports import free_port
from tests.api.graphs import transform_graph
from tests.live import TEST_JWT_SECRET, LiveStack, up_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

TERMINAL = {"completed", "failed", "cancelled", "terminated", "timed_out"}
UI = "http://localhost:8233"


@pytest.fixture
def per_user_stack(
    temporal_env: WorkflowEnvironment, empty_database_url: str, tmp_path: Path
) -> Iterator[tuple[LiveStack, str]]:
    """A stack of its own (the namespace policy is the installation's), and its prefix."""
    prefix = f"t{uuid.uuid4().hex[:6]}-"
    port = free_port()
    env = up_env(
        DATABASE_URL=empty_database_url,
        TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        TEMPORAL_UI_URL=UI,
        RUNLOOM_PORT=str(port),
        RUNLOOM_DATA_DIR=str(tmp_path / "data"),
        RUNLOOM_WORKER_HEARTBEAT_S="1",
        RUNLOOM_JWT_SECRET=TEST_JWT_SECRET,
        RUNLOOM_NAMESPACE_MODE="per_user",
        RUNLOOM_NAMESPACE_PREFIX=prefix,
        RUNLOOM_NAMESPACE_RETENTION_DAYS="1",
    )
    (tmp_path / "up").mkdir()
    stack = LiveStack(env=env, port=port, cwd=tmp_path / "up")
    try:
        stack.start(timeout=120)
        yield stack, prefix
    finally:
        stack.stop()


async def _until(check: Any, what: str, *, within_s: float = 120) -> Any:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        found = await check()
        if found is not None:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what} within {within_s:.0f} s")


async def _signed_up(http: httpx.AsyncClient) -> str:
    email = f"u{uuid.uuid4().hex[:10]}@example.test"
    response = await http.post(
        "/api/auth/signup", json={"email": email, "password": "correct horse battery"}
    )
    assert response.status_code == 201, response.text
    session = response.json()
    http.headers["Authorization"] = f"Bearer {session['access_token']}"
    return str(session["user"]["id"])


async def _build_and_run(http: httpx.AsyncClient, project_id: str, n: int) -> dict[str, Any]:
    body = {"project_id": project_id, "name": "doubler", "graph": transform_graph()}
    response = await http.post("/api/workflows", json=body)
    assert response.status_code == 201, response.text
    workflow_id = response.json()["workflow"]["id"]
    build = await http.post(f"/api/workflows/{workflow_id}/build", json={"input": {"n": n}})
    assert build.status_code == 201, build.text
    execution_id = build.json()["execution_id"]

    async def ended() -> dict[str, Any] | None:
        response = await http.get(f"/api/executions/{execution_id}")
        assert response.status_code == 200, response.text
        execution: dict[str, Any] = response.json()["execution"]
        return execution if execution["status"] in TERMINAL else None

    result: dict[str, Any] = await _until(ended, f"execution {execution_id} did not end")
    return result


async def _exists(client: Client, execution: dict[str, Any]) -> bool:
    handle = client.get_workflow_handle(
        execution["temporal_workflow_id"], run_id=execution["temporal_run_id"]
    )
    try:
        await handle.describe()
    except RPCError as exc:
        assert exc.status == RPCStatusCode.NOT_FOUND, exc
        return False
    return True


async def _one_user(stack: LiveStack, n: int) -> tuple[str, str, dict[str, Any], httpx.AsyncClient]:
    http = httpx.AsyncClient(base_url=stack.url, timeout=60)
    user_id = await _signed_up(http)
    listed = (await http.get("/api/projects")).json()["projects"]
    (project,) = listed  # the default project, made at sign-up
    execution = await _build_and_run(http, project["id"], n)
    return user_id, project["temporal_namespace"], execution, http


async def test_each_users_runs_live_in_their_own_namespace(
    per_user_stack: tuple[LiveStack, str], temporal_env: WorkflowEnvironment
) -> None:
    stack, prefix = per_user_stack
    (ann, ann_ns, ann_run, ann_http), (bob, bob_ns, bob_run, bob_http) = await asyncio.gather(
        _one_user(stack, 20), _one_user(stack, 100)
    )
    try:
        assert (ann_ns, bob_ns) == (f"{prefix}{ann}", f"{prefix}{bob}")
        # Completed and recorded by the tracker (it alone writes the end and the figures).
        for run, result in ((ann_run, 41), (bob_run, 201)):
            assert run["status"] == "completed", (run["error"], stack.log[-3000:])
            assert run["output"] == {"result": result}
            assert run["finished_at"] is not None and run["duration_ms"] is not None
        for http, namespace, run in ((ann_http, ann_ns, ann_run), (bob_http, bob_ns, bob_run)):
            assert run["temporal_namespace"] == namespace
            assert run["temporal_ui_url"] == (
                f"{UI}/namespaces/{namespace}/workflows/"
                f"{run['temporal_workflow_id']}/{run['temporal_run_id']}/history"
            )
            steps = (await http.get(f"/api/executions/{run['id']}/steps")).json()["steps"]
            assert [(s["node_id"], s["status"]) for s in steps if s["node_id"] == "shape"] == [
                ("shape", "completed")
            ]
            project = (await http.get(f"/api/projects/{run['project_id']}")).json()["project"]
            assert project["total_workflow_executions"] == 1  # the tracker's statistics

        shared = temporal_env.client  # TEMPORAL_NAMESPACE: "default"
        in_ann, in_bob = client_for(shared, ann_ns), client_for(shared, bob_ns)
        assert await _exists(in_ann, ann_run) and await _exists(in_bob, bob_run)
        assert not await _exists(in_bob, ann_run) and not await _exists(in_ann, bob_run)
        assert not await _exists(shared, ann_run) and not await _exists(shared, bob_run)
    finally:
        await ann_http.aclose()
        await bob_http.aclose()


async def _describe_schedule(client: Client, trigger_id: str) -> bool:
    try:
        await client.get_schedule_handle(f"runloom-trigger-{trigger_id}").describe()
    except RPCError as exc:
        assert exc.status == RPCStatusCode.NOT_FOUND, exc
        return False
    return True


async def test_a_schedule_fires_in_its_users_namespace(
    per_user_stack: tuple[LiveStack, str], temporal_env: WorkflowEnvironment
) -> None:
    stack, prefix = per_user_stack
    async with httpx.AsyncClient(base_url=stack.url, timeout=60) as http:
        user_id = await _signed_up(http)
        (project,) = (await http.get("/api/projects")).json()["projects"]
        # Built once by hand, so that the schedule's are the workflow's only runs.
        built = await _build_and_run(http, project["id"], 1)
        workflow_id = built["workflow_id"]
        response = await http.post(
            f"/api/workflows/{workflow_id}/triggers",
            json={"type": "schedule", "interval_s": 2, "input": {"n": 5}},
        )
        assert response.status_code == 201, response.text
        trigger = response.json()["trigger"]
        assert trigger["temporal_namespace"] == f"{prefix}{user_id}"
        assert len(trigger["next_runs"]) == 5  # read from the schedule, in its namespace

        async def scheduled_run() -> dict[str, Any] | None:
            response = await http.get(f"/api/executions?workflow_id={workflow_id}")
            runs = response.json()["executions"]
            done = [r for r in runs if r["trigger_id"] == trigger["id"]]
            return next((r for r in done if r["status"] == "completed"), None)

        run = await _until(scheduled_run, "no scheduled run completed")
        assert run["output"] == {"result": 11}
        namespace = f"{prefix}{user_id}"
        mine, shared = client_for(temporal_env.client, namespace), temporal_env.client
        assert await _exists(mine, run) and not await _exists(shared, run)
        assert await _describe_schedule(mine, trigger["id"])
        assert not await _describe_schedule(shared, trigger["id"])

        # Deleting the workflow deletes its schedule, where it lives.
        assert (await http.delete(f"/api/workflows/{workflow_id}")).status_code == 204
        assert not await _describe_schedule(mine, trigger["id"])
