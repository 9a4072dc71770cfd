"""GET /metrics on a live stack, and the manager's metrics endpoint beside it.

The stack has a database of its own: its tracker then records every run of this test
(another stack's tracker on a shared database could lead and record them instead), and
the manager's histograms are its alone.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.testing import WorkflowEnvironment

from runloom.stack.ports import free_port
from runloom.stack.postgres import EmbeddedPostgres
from tests.api.graphs import failing_graph, transform_graph
from tests.live import TEST_JWT_SECRET, LiveStack, up_env

TOKEN = "metrics-" + uuid.uuid4().hex
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TERMINAL = {"completed", "failed", "cancelled", "terminated", "timed_out"}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class MetricsStack:
    def __init__(self, stack: LiveStack, manager_port: int, database_url: str) -> None:
        self.stack = stack
        self.manager_url = f"http://127.0.0.1:{manager_port}/metrics"
        self.database_url = database_url


@pytest.fixture(scope="module")
def metrics_stack(
    postgres_server: EmbeddedPostgres,
    temporal_env: WorkflowEnvironment,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[MetricsStack]:
    cwd = tmp_path_factory.mktemp("metrics")
    port, manager_port = free_port(), free_port()
    database_url = postgres_server.create_database(f"m_{uuid.uuid4().hex[:12]}")
    env = up_env(
        DATABASE_URL=database_url,
        TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        RUNLOOM_PORT=str(port),
        RUNLOOM_DATA_DIR=str(cwd / "data"),
        RUNLOOM_WORKER_HEARTBEAT_S="1",
        RUNLOOM_JWT_SECRET=TEST_JWT_SECRET,
        RUNLOOM_METRICS_TOKEN=TOKEN,
        RUNLOOM_MANAGER_METRICS_PORT=str(manager_port),
    )
    stack = LiveStack(env=env, port=port, cwd=Path(cwd))
    stack.start(timeout=120)
    try:
        yield MetricsStack(stack, manager_port, database_url)
    finally:
        stack.stop()


def _samples(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def _signed_up(http: httpx.AsyncClient) -> None:
    body = {"email": f"m{uuid.uuid4().hex[:10]}@example.test", "password": "correct horse battery"}
    response = await http.post("/api/auth/signup", json=body)
    assert response.status_code == 201, response.text
    http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"


async def _ended(http: httpx.AsyncClient, execution_id: str) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        response = await http.get(f"/api/executions/{execution_id}")
        assert response.status_code == 200, response.text
        status: str = response.json()["execution"]["status"]
        if status in TERMINAL:
            return status
        await asyncio.sleep(0.2)
    raise AssertionError(f"execution {execution_id} did not end within 120 s")


async def _workflow(http: httpx.AsyncClient, project_id: str, graph: dict[str, object]) -> str:
    body = {"project_id": project_id, "name": f"wf-{uuid.uuid4().hex[:6]}", "graph": graph}
    response = await http.post("/api/workflows", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["workflow"]["id"])


async def _worker_running(http: httpx.AsyncClient, project_id: str, *, ask: bool = True) -> None:
    """Ask for the project's worker and wait until it serves (under load, longer than the
    API waits for one when a start needs it)."""
    if ask:
        response = await http.post(f"/api/projects/{project_id}/workers/start")
        assert response.status_code == 202, response.text
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        workers = (await http.get(f"/api/projects/{project_id}/workers")).json()["workers"]
        if workers and workers[0]["status"] == "running":
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"the worker of project {project_id} was not running within 180 s")


async def _run_three(http: httpx.AsyncClient, project_id: str) -> list[str]:
    """Two runs that complete and one that fails, each waited for."""
    good = await _workflow(http, project_id, transform_graph())
    bad = await _workflow(http, project_id, failing_graph("metrics test failure"))
    for workflow_id in (good, bad):
        response = await http.post(f"/api/workflows/{workflow_id}/deploy")
        assert response.status_code == 201, response.text
    await _worker_running(http, project_id)
    ids = []
    for workflow_id, body in ((good, {"input": {"n": 1}}), (good, {"input": {"n": 2}}), (bad, {})):
        response = await http.post(f"/api/workflows/{workflow_id}/executions", json=body)
        assert response.status_code == 201, response.text
        ids.append(response.json()["execution"]["id"])
    return [await _ended(http, execution_id) for execution_id in ids]


async def test_counters_move_by_the_runs_made_and_the_token_is_required(
    metrics_stack: MetricsStack,
) -> None:
    async with httpx.AsyncClient(base_url=metrics_stack.stack.url, timeout=60) as http:
        await _signed_up(http)
        projects = (await http.get("/api/projects")).json()["projects"]
        project = projects[0]["id"]
        before = _samples((await http.get("/metrics", headers=AUTH)).text)
        assert await _run_three(http, project) == ["completed", "completed", "failed"]

        # The database's figures are cached for a second: scrape until they show the
        # three runs started (then they show their ends too: all three were recorded).
        def started(samples: Samples) -> float:
            labels = {"project_id": project, "trigger": "manual"}
            return _value(samples, "runloom_runs_started_total", **labels)

        deadline = time.monotonic() + 30
        after = before
        while started(after) - started(before) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            response = await http.get("/metrics", headers=AUTH)
            assert response.status_code == 200
            after = _samples(response.text)

        for anonymous in ("", "Bearer wrong", f"Basic {TOKEN}"):
            refused = await http.get("/metrics", headers={"Authorization": anonymous})
            assert refused.status_code == 401
            assert "RUNLOOM_METRICS_TOKEN" in refused.json()["detail"]

    def moved(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert moved("runloom_runs_started_total", project_id=project, trigger="manual") == 3
    ended = "runloom_runs_ended_total"
    assert moved(ended, project_id=project, status="completed", trigger="manual") == 2
    assert moved(ended, project_id=project, status="failed", trigger="manual") == 1
    assert _value(after, "runloom_metrics_database_up") == 1
    assert _value(after, "runloom_workers", state="running") >= 1
    assert _value(after, "runloom_db_pool_max") >= 1
    assert ("runloom_live_streams", frozenset()) in after
    routes = {dict(labels).get("route") for name, labels in after if "http_request" in name}
    assert "/api/workflows/{workflow_id}/executions" in routes


async def test_the_manager_serves_run_histograms_and_its_workers_sdk_metrics(
    metrics_stack: MetricsStack,
) -> None:
    async with httpx.AsyncClient(base_url=metrics_stack.stack.url, timeout=60) as http:
        await _signed_up(http)
        project = (await http.get("/api/projects")).json()["projects"][0]["id"]
        assert await _run_three(http, project) == ["completed", "completed", "failed"]
        async with httpx.AsyncClient(timeout=30) as plain:
            assert (await plain.get(metrics_stack.manager_url)).status_code == 401
            # The worker's exporter may not have answered yet at the first scrape.
            deadline = time.monotonic() + 60
            while True:
                response = await plain.get(metrics_stack.manager_url, headers=AUTH)
                assert response.status_code == 200, response.text
                samples = _samples(response.text)
                sdk = [
                    name
                    for name, labels in samples
                    if name.startswith("temporal_") and ("project_id", project) in labels
                ]
                if sdk or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)

    count = "runloom_run_duration_seconds_count"
    # A project of this test alone, on a manager of this module alone: exact counts.
    assert _value(samples, count, project_id=project, status="completed") == 2
    assert _value(samples, count, project_id=project, status="failed") == 1
    steps = "runloom_step_duration_seconds_count"
    assert _value(samples, steps, project_id=project, status="completed") >= 2
    assert _value(samples, "runloom_tracking_lag_seconds_count") >= 3
    assert _value(samples, "runloom_manager_workers", state="running") >= 1
    assert any("activity_execution_latency" in name for name in sdk), sorted(set(sdk))


async def _running_worker(database_url: str, project_id: str) -> tuple[int, int | None]:
    """The project's running worker: its process id and the port in its registry row."""
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(
            "SELECT process_id, port FROM public.workflow_workers "
            "WHERE project_id = %s AND status = 'running'",
            (project_id,),
        )
        row = await cur.fetchone()
    assert row is not None, "no running worker"
    return int(row[0]), row[1]


async def test_a_workers_port_is_in_its_row_and_a_crash_counts_a_restart(
    metrics_stack: MetricsStack,
) -> None:
    async with httpx.AsyncClient(base_url=metrics_stack.stack.url, timeout=60) as http:
        await _signed_up(http)
        project = (await http.get("/api/projects")).json()["projects"][0]["id"]
        workflow_id = await _workflow(http, project, transform_graph())
        assert (await http.post(f"/api/workflows/{workflow_id}/deploy")).status_code == 201
        await _worker_running(http, project)
        pid, port = await _running_worker(metrics_stack.database_url, project)
        assert port is not None
        async with httpx.AsyncClient(timeout=30) as plain:
            own = await plain.get(f"http://127.0.0.1:{port}/metrics")
            assert own.status_code == 200 and "temporal_" in own.text

            os.kill(pid, signal.SIGKILL)  # a worker of this test's own stack
            restarts = 0.0
            deadline = time.monotonic() + 180
            while restarts < 1 and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                response = await plain.get(metrics_stack.manager_url, headers=AUTH)
                restarts = _value(
                    _samples(response.text), "runloom_worker_restarts_total", project_id=project
                )
        assert restarts == 1
        await _worker_running(http, project, ask=False)  # the restarted one
    new_pid, new_port = await _running_worker(metrics_stack.database_url, project)
    assert new_pid != pid and new_port is not None
