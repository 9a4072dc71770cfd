"""Project workers run by real managers, on the real Temporal dev server and Postgres."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle

from runloom.db.pool import Pool
from runloom.db.session import service_session
from runloom.paths import temporal_cli_path
from runloom.services import deploy as deploy_service
from runloom.services.worker_requests import WorkerUnavailableError, request_worker
from runloom.store import code
from tests.factory import (
    Project,
    approval_graph,
    chain,
    make_project,
    make_workflow,
    record_execution,
    set_graph,
)

from .conftest import HEARTBEAT_S, MakeManager, eventually, worker_rows

pytestmark = pytest.mark.timeout(90)


async def deploy(pool: Pool, workflow_id: UUID) -> code.StoredCode:
    async with service_session(pool) as conn:
        return await deploy_service.deploy_workflow(conn, workflow_id=workflow_id, compiled_by=None)


async def start(
    client: Client, project: Project, workflow_type: str, payload: Any = None
) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        workflow_type,
        {} if payload is None else payload,
        id=f"run-{uuid.uuid4().hex}",
        task_queue=project.task_queue,
    )


async def failed_task_causes(handle: WorkflowHandle[Any, Any]) -> list[str]:
    causes = []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            attrs = event.workflow_task_failed_event_attributes
            causes.append(f"{attrs.cause}: {attrs.failure.message}")
    return causes


ENV_PROBE = chain(
    {
        "id": "env",
        "type": "python",
        "config": {"code": "import os\nreturn sorted(os.environ)"},
    },
    output="{{ steps.env }}",
)


async def test_stored_workflow_runs_in_a_managed_worker(
    pool: Pool, temporal_client: Client, make_manager: MakeManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Secrets the manager's own environment holds must not reach user code.
    monkeypatch.setenv("DATABASE_URL", "postgresql://secret@db/runloom")
    monkeypatch.setenv("RUNLOOM_JWT_SECRET", "x" * 40)
    project = await make_project(pool)
    workflow_id = await make_workflow(pool, project, ENV_PROBE, key="probe")
    stored = await deploy(pool, workflow_id)
    manager = await make_manager()

    status = await manager.start_worker_for_project(project.id)
    assert status.status == "running" and status.loaded == ("probe@v1",)

    environment = await (await start(temporal_client, project, stored.workflow_type)).result()
    assert "DATABASE_URL" not in environment
    assert not [name for name in environment if "SECRET" in name or "JWT" in name]
    # Where Temporal is comes over the worker's pipe, not through its environment.
    assert not {"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE"} & set(environment)

    async def heartbeat_with_figures() -> dict[str, Any] | None:
        (row,) = await worker_rows(pool, project.id)
        done = row["memory_usage_mb"] and row["total_tasks_completed"] >= 2
        return row if done else None

    row = await eventually(heartbeat_with_figures, within_s=5, what="a heartbeat with figures")
    assert row["status"] == "running"
    assert row["heartbeat_age"] < timedelta(seconds=3 * HEARTBEAT_S)
    assert row["host"] and int(row["process_id"]) == status.process_id
    assert row["started_at"] is not None and row["memory_usage_mb"] > 10
    assert row["avg_task_duration_ms"] > 0 and row["port"] is None
    assert row["metadata"]["loaded"] == ["probe@v1"]
    assert row["metadata"]["startup_ms"] < 3000

    assert await manager.stop_worker_for_project(project.id)
    (row,) = await worker_rows(pool, project.id)
    assert row["status"] == "stopped" and row["stopped_at"] is not None
    assert row["metadata"]["reason"] == "requested"


async def test_a_workflow_type_of_one_project_does_not_run_on_another(
    pool: Pool, temporal_client: Client, make_manager: MakeManager
) -> None:
    project_a, project_b = await make_project(pool), await make_project(pool)
    a_type = (
        await deploy(pool, await make_workflow(pool, project_a, chain(output="a"), key="only-a"))
    ).workflow_type
    b_type = (
        await deploy(pool, await make_workflow(pool, project_b, chain(output="b"), key="only-b"))
    ).workflow_type
    manager = await make_manager()
    await manager.start_worker_for_project(project_a.id)
    await manager.start_worker_for_project(project_b.id)

    assert await (await start(temporal_client, project_a, a_type)).result() == "a"
    assert await (await start(temporal_client, project_b, b_type)).result() == "b"
    intruder = await start(temporal_client, project_b, a_type)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(intruder.result(), 3)
    causes = await failed_task_causes(intruder)
    assert causes and all("only-a@v1" in cause for cause in causes)
    await intruder.terminate()


async def test_redeploy_keeps_in_flight_runs_on_their_version(
    pool: Pool, temporal_client: Client, make_manager: MakeManager
) -> None:
    project = await make_project(pool)
    workflow_id = await make_workflow(pool, project, approval_graph("one"), key="approval")
    await make_manager(serve=True)
    v1 = await deploy(pool, workflow_id)
    await request_worker(pool, project_id=project.id, workflow_type=v1.workflow_type)
    old_run = await start(temporal_client, project, v1.workflow_type)
    await record_execution(
        pool, project, workflow_id, version=v1.version, temporal_workflow_id=old_run.id
    )

    async def waiting() -> bool:
        states = await old_run.query("node_states")
        return bool(states["wait"]["status"] == "running")

    await eventually(waiting, within_s=10, what="the v1 run to wait for its signal")

    await set_graph(pool, workflow_id, approval_graph("two"))
    v2 = await deploy(pool, workflow_id)
    assert v2.version == 2
    await request_worker(pool, project_id=project.id, workflow_type=v2.workflow_type)
    rows = await worker_rows(pool, project.id)
    assert [r["status"] for r in rows] == ["running"], "a reload keeps the same process"
    assert rows[0]["metadata"]["loaded"] == ["approval@v1", "approval@v2"]

    await old_run.signal("go", "yes")
    assert await asyncio.wait_for(old_run.result(), 15) == "one yes"
    new_run = await start(temporal_client, project, v2.workflow_type)
    await new_run.signal("go", "sure")
    assert await asyncio.wait_for(new_run.result(), 15) == "two sure"
    assert await failed_task_causes(old_run) == []
    assert await failed_task_causes(new_run) == []


async def test_killed_worker_is_restarted_and_every_run_completes(
    pool: Pool, temporal_client: Client, make_manager: MakeManager
) -> None:
    project = await make_project(pool)
    graph = chain(
        {"id": "pause", "type": "delay", "config": {"seconds": 2}}, output="{{ input.n }}"
    )
    stored = await deploy(pool, await make_workflow(pool, project, graph, key="pauses"))
    manager = await make_manager()
    first = await manager.start_worker_for_project(project.id)
    runs = [
        await start(temporal_client, project, stored.workflow_type, {"n": n}) for n in range(20)
    ]

    async def all_started() -> bool:
        for run in runs:
            if (await run.query("node_states"))["pause"]["status"] != "running":
                return False
        return True

    await eventually(all_started, within_s=15, what="20 runs in their delay")
    assert first.process_id is not None
    os.kill(first.process_id, signal.SIGKILL)

    results = await asyncio.wait_for(asyncio.gather(*(run.result() for run in runs)), 45)
    assert sorted(results) == sorted(range(20)) or sorted(map(int, results)) == list(range(20))
    rows = await worker_rows(pool, project.id)
    assert rows[0]["status"] == "failed"
    assert "SIGKILL" in rows[0]["metadata"]["error"]
    assert rows[0]["metadata"]["reason"] == "crashed"
    assert rows[-1]["status"] == "running"
    assert rows[-1]["metadata"]["restart_of"] == rows[0]["worker_id"]
    assert int(rows[-1]["process_id"]) != first.process_id


async def test_crash_loop_stops_after_the_bound_with_its_reason(
    pool: Pool, make_manager: MakeManager
) -> None:
    project = await make_project(pool)
    await deploy(pool, await make_workflow(pool, project, chain(output="x"), key="crashy"))
    # Far too little address space for Python to import Temporal: every start dies.
    manager = await make_manager(memory_mb=64, max_restarts=2)
    with pytest.raises(Exception, match="exited before it was ready"):
        await manager.start_worker_for_project(project.id)

    async def gave_up() -> list[dict[str, Any]] | None:
        rows = await worker_rows(pool, project.id)
        return rows if rows and rows[-1]["metadata"].get("reason") == "crash_loop" else None

    rows = await eventually(gave_up, within_s=20, what="the crash loop to be given up")
    assert [r["status"] for r in rows] == ["failed"] * 3
    assert "gave up after 3 consecutive failures" in rows[-1]["metadata"]["error"]
    assert rows[-1]["metadata"]["stderr_tail"]
    await asyncio.sleep(1)
    assert len(await worker_rows(pool, project.id)) == 3, "no restart after giving up"
    with pytest.raises(WorkerUnavailableError, match="gave up after"):
        await request_worker(pool, project_id=project.id, timeout_s=0.5)


async def test_killed_manager_is_taken_over_by_another(
    pool: Pool,
    temporal_client: Client,
    temporal_env: Any,
    database_url: str,
    make_manager: MakeManager,
    repo_root: Path,
) -> None:
    project = await make_project(pool)
    stored = await deploy(
        pool, await make_workflow(pool, project, chain(output="{{ input.n }}"), key="owned")
    )
    config = {
        "database_url": database_url,
        "temporal_address": temporal_env.client.service_client.config.target_host,
        "manager_id": f"doomed-{uuid.uuid4().hex[:6]}",
        "heartbeat_s": HEARTBEAT_S,
    }
    doomed = subprocess.Popen(  # noqa: ASYNC220 - killed with SIGKILL, waited briefly
        [sys.executable, "-m", "tests.manager.manager_main", json.dumps(config)],
        cwd=repo_root,
        start_new_session=True,
    )
    try:
        await request_worker(pool, project_id=project.id, timeout_s=30)
        (row,) = await worker_rows(pool, project.id)
        assert row["metadata"]["manager_id"] == config["manager_id"]

        survivor = await make_manager(serve=True)
        await asyncio.sleep(4 * HEARTBEAT_S)
        assert survivor.workers() == [], "the live owner keeps its project"
        assert [r["status"] for r in await worker_rows(pool, project.id)] == ["running"]

        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait(5)
        runs = [
            await start(temporal_client, project, stored.workflow_type, {"n": n}) for n in range(5)
        ]
        active_counts: list[int] = []

        async def taken_over() -> bool:
            rows = await worker_rows(pool, project.id)
            active_counts.append(sum(r["status"] in ("starting", "running") for r in rows))
            return bool(
                rows[-1]["status"] == "running"
                and rows[-1]["metadata"]["manager_id"] == survivor.manager_id
            )

        await eventually(taken_over, within_s=20, what="the survivor to take the project over")
        results = await asyncio.wait_for(asyncio.gather(*(r.result() for r in runs)), 20)
        assert sorted(map(int, results)) == list(range(5))
        assert max(active_counts) <= 1
        rows = await worker_rows(pool, project.id)
        assert rows[0]["status"] == "failed" and rows[0]["metadata"]["reason"] == "stale"
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait()


async def test_idle_worker_stops_and_a_cli_run_wakes_it(
    pool: Pool, temporal_client: Client, temporal_env: Any, make_manager: MakeManager
) -> None:
    project = await make_project(pool)
    stored = await deploy(
        pool, await make_workflow(pool, project, chain(output="woken"), key="sleepy")
    )
    await make_manager(serve=True, idle_timeout_s=1.0)
    await request_worker(pool, project_id=project.id, workflow_type=stored.workflow_type)

    async def stopped_idle() -> bool:
        rows = await worker_rows(pool, project.id)
        return bool(rows[-1]["status"] == "stopped" and rows[-1]["metadata"]["reason"] == "idle")

    await eventually(stopped_idle, within_s=10, what="the idle worker to stop")

    workflow_id = f"cli-{uuid.uuid4().hex}"
    cli = await asyncio.create_subprocess_exec(
        str(temporal_cli_path()),
        "workflow",
        "start",
        "--address",
        temporal_env.client.service_client.config.target_host,
        "--task-queue",
        project.task_queue,
        "--type",
        stored.workflow_type,
        "--workflow-id",
        workflow_id,
        "--input",
        "{}",
        stdout=asyncio.subprocess.DEVNULL,
    )
    assert await cli.wait() == 0
    result = await asyncio.wait_for(temporal_client.get_workflow_handle(workflow_id).result(), 30)
    assert result == "woken"
    rows = await worker_rows(pool, project.id)
    assert [r["status"] for r in rows] == ["stopped", "running"]
