"""Under `runloom up` the manager runs in a child process of its own: the API process
serves requests only. If the manager dies, `up` restarts it and says so; Ctrl-C stops the
API, then the manager (its workers' rows end `stopped`), then the services."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
import pytest
from temporalio.testing import WorkflowEnvironment

from runloom.db.migrate import migrate
from runloom.stack.ports import free_port
from runloom.stack.postgres import EmbeddedPostgres
from tests.api.graphs import transform_graph
from tests.live import LiveStack, up_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

TERMINAL = {"completed", "failed", "cancelled", "terminated", "timed_out"}


def _managers(stack: LiveStack) -> list[psutil.Process]:
    assert stack.process is not None
    found = []
    for child in psutil.Process(stack.process.pid).children():
        try:
            if "manager" in child.cmdline():
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


async def _new_manager(stack: LiveStack, *, other_than: int | None) -> psutil.Process:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        managers = [m for m in _managers(stack) if m.pid != other_than]
        if managers:
            return managers[0]
        await asyncio.sleep(0.1)
    raise AssertionError(f"no manager process under `up` within 60 s: {stack.log}")


async def _run(http: httpx.AsyncClient, workflow_id: str, n: int) -> dict[str, Any]:
    started = await http.post(f"/api/workflows/{workflow_id}/executions", json={"input": {"n": n}})
    assert started.status_code == 201, started.text
    execution_id = started.json()["execution"]["id"]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        execution: dict[str, Any] = (await http.get(f"/api/executions/{execution_id}")).json()[
            "execution"
        ]
        if execution["status"] in TERMINAL:
            return execution
        await asyncio.sleep(0.2)
    raise AssertionError(f"execution {execution_id} was not tracked to its end within 90 s")


@pytest.fixture
def up(temporal_env: WorkflowEnvironment, tmp_path: Path) -> Iterator[tuple[LiveStack, str]]:
    postgres = EmbeddedPostgres(tmp_path / "pg", free_port())
    postgres.start()
    migrate(postgres.url)
    port = free_port()
    env = up_env(
        DATABASE_URL=postgres.url,
        TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        RUNLOOM_PORT=str(port),
        RUNLOOM_DATA_DIR=str(tmp_path / "data"),
        RUNLOOM_WORKER_HEARTBEAT_S="1",
    )
    stack = LiveStack(env=env, port=port, cwd=tmp_path)
    stack.start()
    try:
        yield stack, postgres.url
    finally:
        stack.stop()
        postgres.stop()


async def test_the_manager_runs_apart_is_restarted_when_it_dies_and_stops_after_the_api(
    up: tuple[LiveStack, str],
) -> None:
    stack, database_url = up
    first = await _new_manager(stack, other_than=None)
    assert first.pid != os.getpid() and stack.process is not None
    async with httpx.AsyncClient(base_url=stack.url, timeout=60) as http:
        email = f"u{uuid.uuid4().hex[:10]}@example.test"
        signed = await http.post(
            "/api/auth/signup", json={"email": email, "password": "pw-12345678"}
        )
        http.headers["Authorization"] = f"Bearer {signed.json()['access_token']}"
        project = (await http.get("/api/projects")).json()["projects"][0]
        body = {"project_id": project["id"], "name": "doubler", "graph": transform_graph()}
        workflow_id = (await http.post("/api/workflows", json=body)).json()["workflow"]["id"]
        assert (await http.post(f"/api/workflows/{workflow_id}/deploy")).status_code == 201
        assert (await _run(http, workflow_id, 1))["output"] == {"result": 3}

        first.send_signal(signal.SIGKILL)
        second = await _new_manager(stack, other_than=first.pid)
        assert "the manager process exited with -9; restarting it in 1 s" in stack.log
        # The new manager takes over: a new run gets a worker and is tracked to its end.
        assert (await _run(http, workflow_id, 2))["output"] == {"result": 5}

    assert stack.stop() == 0, stack.log
    assert not second.is_running()
    with psycopg.connect(database_url) as conn:
        statuses = conn.execute(
            "SELECT status FROM workflow_workers WHERE project_id = %s ORDER BY created_at",
            (project["id"],),
        ).fetchall()
    assert statuses and statuses[-1] == ("stopped",), statuses
    assert ("running",) not in statuses and ("starting",) not in statuses, statuses
