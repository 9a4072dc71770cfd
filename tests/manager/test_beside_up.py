"""`runloom manager` beside `runloom up`, and both through a restart of Postgres.

A second tracker cannot take the lead while `up`'s holds it; it must keep waiting (not
exit), and after the database comes back every new run is still tracked to its end.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from runloom.db.migrate import migrate
from runloom.stack.ports import free_port
from runloom.stack.postgres import EmbeddedPostgres
from tests.api.graphs import transform_graph
from tests.live import LiveStack, up_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

TERMINAL = {"completed", "failed", "cancelled", "terminated", "timed_out"}


async def _signed_up(http: httpx.AsyncClient) -> None:
    email = f"u{uuid.uuid4().hex[:10]}@example.test"
    response = await http.post(
        "/api/auth/signup", json={"email": email, "password": "correct horse battery"}
    )
    assert response.status_code == 201, response.text
    http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"


async def _start(http: httpx.AsyncClient, workflow_id: str, value: int) -> str:
    """Start a run; a 503 (the database is coming back) is answered by asking again."""
    deadline = time.monotonic() + 60
    while True:
        response = await http.post(
            f"/api/workflows/{workflow_id}/executions", json={"input": {"n": value}}
        )
        if response.status_code == 201:
            return str(response.json()["execution"]["id"])
        assert response.status_code == 503, response.text
        assert time.monotonic() < deadline, f"still refused after 60 s: {response.text}"
        await asyncio.sleep(0.5)


async def _ended(http: httpx.AsyncClient, execution_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = await http.get(f"/api/executions/{execution_id}")
        if response.status_code == 200 and response.json()["execution"]["status"] in TERMINAL:
            execution: dict[str, Any] = response.json()["execution"]
            return execution
        await asyncio.sleep(0.2)
    raise AssertionError(f"execution {execution_id} was not tracked to its end within 60 s")


@dataclass
class BesideUp:
    postgres: EmbeddedPostgres
    stack: LiveStack
    manager: subprocess.Popen[bytes]
    manager_log: Path

    def manager_alive(self) -> bool:
        return self.manager.poll() is None


@pytest.fixture
def beside_up(temporal_env: WorkflowEnvironment, tmp_path: Path) -> Iterator[BesideUp]:
    """Its own Postgres (the test restarts it), `runloom up`, and a `runloom manager`."""
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
    (tmp_path / "up").mkdir()
    stack = LiveStack(env=env, port=port, cwd=tmp_path / "up")
    log_path = tmp_path / "manager.log"
    stack.start()
    with log_path.open("wb") as log:
        manager = subprocess.Popen(
            [sys.executable, "-m", "runloom.cli", "manager"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield BesideUp(postgres, stack, manager, log_path)
    finally:
        manager.terminate()
        manager.wait(30)
        stack.stop()
        postgres.stop()


async def test_second_manager_keeps_running_and_runs_are_tracked_after_postgres_restarts(
    beside_up: BesideUp,
) -> None:
    async with httpx.AsyncClient(base_url=beside_up.stack.url, timeout=60) as http:
        await _signed_up(http)
        projects = (await http.get("/api/projects")).json()["projects"]
        body = {"project_id": projects[0]["id"], "name": "doubler", "graph": transform_graph()}
        workflow_id = (await http.post("/api/workflows", json=body)).json()["workflow"]["id"]
        built = await http.post(f"/api/workflows/{workflow_id}/build", json={"input": {"n": 1}})
        assert built.status_code == 201, built.text
        assert (await _ended(http, built.json()["execution_id"]))["status"] == "completed"

        # The second tracker retries the leader lock every 2 s; with the bug it died on
        # its first retry. Several retries later it must still be there.
        deadline = time.monotonic() + 9
        while time.monotonic() < deadline:
            assert beside_up.manager_alive(), beside_up.manager_log.read_text()
            await asyncio.sleep(0.5)

        await asyncio.to_thread(beside_up.postgres.stop)
        await asyncio.to_thread(beside_up.postgres.start)

        for value in (2, 3, 4):
            execution = await _ended(http, await _start(http, workflow_id, value))
            assert execution["status"] == "completed", execution
            assert execution["output"] == {"result": value * 2 + 1}, execution
    assert beside_up.manager_alive(), beside_up.manager_log.read_text()
    process = beside_up.stack.process
    assert process is not None and process.poll() is None, beside_up.stack.log
