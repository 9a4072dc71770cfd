"""`runloom up` against Temporal behind mTLS (and an API key), end to end.

The stack knows Temporal only by the proxy's address, and the proxy accepts only clients
with a certificate signed by the test CA: a run that completes proves that the API, the
manager, the tracker and the project worker all connected through mTLS. The worker gets
the material over its pipe; its environment must hold none of it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from runloom.stack.ports import free_port
from tests.api.graphs import transform_graph
from tests.live import TEST_JWT_SECRET, LiveStack, up_env
from tests.tls_proxy import Pki, TlsProxy

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

API_KEY = "runloom-test-api-key-" + uuid.uuid4().hex
TERMINAL = {"completed", "failed", "cancelled", "terminated", "timed_out"}


@dataclass
class SecuredStack:
    stack: LiveStack
    proxy: TlsProxy
    pki: Pki


@pytest.fixture
def secured_stack(
    temporal_env: WorkflowEnvironment, empty_database_url: str, tmp_path: Path
) -> Iterator[SecuredStack]:
    pki = Pki.create(tmp_path / "pki")
    upstream = temporal_env.client.service_client.config.target_host
    proxy = TlsProxy(upstream, pki, require_client_cert=True).start()
    port = free_port()
    env = up_env(
        DATABASE_URL=empty_database_url,
        TEMPORAL_ADDRESS=proxy.address,
        TEMPORAL_TLS_CA=str(pki.ca),
        TEMPORAL_TLS_CERT=str(pki.client_cert),
        TEMPORAL_TLS_KEY=str(pki.client_key),
        # The dev server ignores it; what matters is that it travels like the TLS material.
        TEMPORAL_API_KEY=API_KEY,
        RUNLOOM_PORT=str(port),
        RUNLOOM_DATA_DIR=str(tmp_path / "data"),
        RUNLOOM_WORKER_HEARTBEAT_S="1",
        RUNLOOM_JWT_SECRET=TEST_JWT_SECRET,
    )
    (tmp_path / "up").mkdir()
    stack = LiveStack(env=env, port=port, cwd=tmp_path / "up")
    try:
        stack.start(timeout=120)
        yield SecuredStack(stack, proxy, pki)
    finally:
        stack.stop()
        proxy.stop()


async def _signed_up(http: httpx.AsyncClient) -> None:
    email = f"u{uuid.uuid4().hex[:10]}@example.test"
    response = await http.post(
        "/api/auth/signup", json={"email": email, "password": "correct horse battery"}
    )
    assert response.status_code == 201, response.text
    http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"


async def _until(check: Any, what: str, *, within_s: float = 90) -> Any:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        found = await check()
        if found is not None:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what} within {within_s:.0f} s")


async def _run_to_end(http: httpx.AsyncClient, project_id: str) -> dict[str, Any]:
    body = {"project_id": project_id, "name": "doubler", "graph": transform_graph()}
    response = await http.post("/api/workflows", json=body)
    assert response.status_code == 201, response.text
    workflow_id = response.json()["workflow"]["id"]
    build = await http.post(f"/api/workflows/{workflow_id}/build", json={"input": {"n": 20}})
    if build.status_code == 503:
        # The build is stored but its worker was slower to come up than the API waits (a
        # loaded machine): start the run once the worker serves, as a client would.
        await _worker_pid(http, project_id)
        start = await http.post(
            f"/api/workflows/{workflow_id}/executions", json={"input": {"n": 20}}
        )
        assert start.status_code == 201, start.text
        execution_id = start.json()["execution"]["id"]
    else:
        assert build.status_code == 201, build.text
        execution_id = build.json()["execution_id"]

    async def ended() -> dict[str, Any] | None:
        response = await http.get(f"/api/executions/{execution_id}")
        execution: dict[str, Any] = response.json()["execution"]
        return execution if execution["status"] in TERMINAL else None

    result: dict[str, Any] = await _until(ended, f"execution {execution_id} did not end")
    return result


async def _worker_pid(http: httpx.AsyncClient, project_id: str) -> int:
    async def running() -> int | None:
        workers = (await http.get(f"/api/projects/{project_id}/workers")).json()["workers"]
        pids = [w["process_id"] for w in workers if w["status"] == "running"]
        return int(pids[0]) if pids and pids[0] else None

    pid: int = await _until(running, "no running worker")
    return pid


def _proc(pid: int, name: str) -> str:
    return Path(f"/proc/{pid}/{name}").read_bytes().decode(errors="replace")


async def test_a_run_completes_through_mtls_and_the_worker_environment_is_clean(
    secured_stack: SecuredStack,
) -> None:
    pki = secured_stack.pki
    async with httpx.AsyncClient(base_url=secured_stack.stack.url, timeout=60) as http:
        await _signed_up(http)
        project_id = (await http.get("/api/projects")).json()["projects"][0]["id"]
        execution = await _run_to_end(http, project_id)
        assert execution["status"] == "completed", execution
        assert execution["output"] == {"result": 41}  # n * 2 + 1
        pid = await _worker_pid(http, project_id)

    secrets = [API_KEY, str(pki.client_key), str(pki.client_cert), "PRIVATE KEY", "BEGIN "]
    environ, cmdline = _proc(pid, "environ"), _proc(pid, "cmdline")
    for secret in secrets:
        assert secret not in environ, f"the worker's environment holds {secret!r}"
        assert secret not in cmdline, f"the worker's command line holds {secret!r}"
    assert "TEMPORAL_" not in environ
    # Nor is any of it written to the log of `runloom up`.
    log = secured_stack.stack.log
    assert API_KEY not in log and "PRIVATE KEY" not in log
