"""Processes of a scale-out test (tests/manager/test_scale_out.py): `runloom api` and
`runloom manager` subprocesses on one database, and what the test looks at."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psutil

from runloom.db.pool import Pool
from runloom.db.session import service_session
from runloom.services import deploy as deploy_service
from runloom.stack.ports import free_port
from tests.factory import approval_graph, make_project, make_workflow

STARTS_AT_ONCE = 6  # run starts in flight: enough to overlap claims, gentle on 2 cores


@dataclass
class Cluster:
    database_url: str
    env: dict[str, str]
    directory: Path
    pool: Pool
    apis: list[str] = field(default_factory=list)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def spawn(self, name: str, command: str, **env: str) -> None:
        with (self.directory / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "runloom.cli", command],
                env={**self.env, **env},
                cwd=self.directory,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start_manager(self, name: str) -> None:
        self.spawn(name, "manager", RUNLOOM_MANAGER_ID=name)

    def start_api(self, name: str) -> None:
        port = free_port()
        self.spawn(name, "api", RUNLOOM_PORT=str(port))
        self.apis.append(f"http://127.0.0.1:{port}")

    def logs(self) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
            for path in sorted(self.directory.glob("*.log"))
        )

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(45)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def until(
    check: Callable[[], Awaitable[Any]], *, within_s: float, what: str, on: Cluster
) -> Any:
    deadline = time.monotonic() + within_s
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within_s} s waiting for {what}\n{on.logs()}")
        await asyncio.sleep(0.5)


async def healthy(cluster: Cluster) -> bool:
    async with httpx.AsyncClient(timeout=5) as http:
        for url in cluster.apis:
            try:
                if (await http.get(f"{url}/api/health")).status_code != 200:
                    return False
            except httpx.TransportError:
                return False
    return True


async def query(pool: Pool, statement: str, *params: Any) -> list[dict[str, Any]]:
    async with service_session(pool) as conn:
        cur = await conn.execute(statement, params)  # type: ignore[arg-type]
        return list(await cur.fetchall())


async def registered(cluster: Cluster, names: set[str]) -> bool:
    rows = await query(
        cluster.pool,
        "SELECT manager_id FROM public.runloom_managers "
        "WHERE last_heartbeat > NOW() - interval '3 seconds'",
    )
    return names <= {row["manager_id"] for row in rows}


async def live_workers(pool: Pool) -> list[psutil.Process]:
    """The worker processes the registry records that still run (pids checked, as pids
    wrap): after the test, only a killed manager's orphans could be left."""
    rows = await query(
        pool,
        "SELECT process_id, created_at FROM public.workflow_workers WHERE process_id IS NOT NULL",
    )
    live = []
    for row in rows:
        if alive(int(row["process_id"]), claimed_at=row["created_at"]):
            with contextlib.suppress(psutil.NoSuchProcess):
                live.append(psutil.Process(int(row["process_id"])))
    return live


def alive(pid: int, *, claimed_at: datetime) -> bool:
    """Whether the worker a row recorded still runs. pids wrap (at 32768 here), so a live
    pid counts only if its process started when the row was claimed."""
    try:
        process = psutil.Process(pid)
        started = process.create_time()
        zombie = process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    claimed = claimed_at.timestamp()
    return not zombie and claimed - 2 <= started <= claimed + 60


class Observer:
    """Looks at the registry and the worker processes; every look must find at most one
    worker per project: one active row, and one live process among all rows ever
    written for it (an orphan that still polls would be a second worker)."""

    def __init__(self, cluster: Cluster, projects: Iterable[UUID]) -> None:
        self.cluster = cluster
        self.projects = set(projects)
        self.looks = 0

    async def owners(self) -> dict[UUID, str]:
        """The manager whose ``running`` worker serves each project (those served)."""
        rows = await query(
            self.cluster.pool,
            "SELECT project_id, status, process_id, created_at, "
            "metadata->>'manager_id' AS manager FROM public.workflow_workers",
        )
        active: collections.Counter[UUID] = collections.Counter()
        processes: collections.Counter[UUID] = collections.Counter()
        owners = {}
        for row in rows:
            if row["status"] in ("starting", "running"):
                active[row["project_id"]] += 1
            pid = row["process_id"]
            if pid is not None and alive(int(pid), claimed_at=row["created_at"]):
                processes[row["project_id"]] += 1
            if row["status"] == "running":
                owners[row["project_id"]] = row["manager"]
        self.looks += 1
        assert max(active.values(), default=0) <= 1, f"two active rows: {active.most_common(3)}"
        assert max(processes.values(), default=0) <= 1, f"two workers: {processes.most_common(3)}"
        return owners

    async def served_by(self, managers: set[str]) -> collections.Counter[str] | None:
        """Per manager, how many projects it serves, once every project is served and by
        ``managers`` only; None until then."""
        owners = await self.owners()
        if set(owners) != self.projects or not set(owners.values()) <= managers:
            return None
        return collections.Counter(owners.values())


@dataclass(frozen=True)
class Workflow:
    id: UUID
    project_id: UUID
    api: int  # which API (and which of its users) starts its runs


@dataclass
class Runs:
    """Every run the test started, and through which API."""

    apis: list[httpx.AsyncClient]
    started: dict[str, int] = field(default_factory=dict)
    open: dict[UUID, list[str]] = field(default_factory=lambda: collections.defaultdict(list))

    async def start(self, workflows: Iterable[Workflow]) -> None:
        gate = asyncio.Semaphore(STARTS_AT_ONCE)

        async def one(workflow: Workflow) -> None:
            async with gate:
                execution_id = await start_run(self.apis[workflow.api], workflow.id)
            self.started[execution_id] = workflow.api
            self.open[workflow.project_id].append(execution_id)

        await asyncio.gather(*(one(w) for w in workflows))

    async def release(self, projects: Iterable[UUID]) -> None:
        """Signal every open run of these projects, through the API that started it."""
        gate = asyncio.Semaphore(STARTS_AT_ONCE)

        async def one(execution_id: str) -> None:
            async with gate:
                http = self.apis[self.started[execution_id]]
                response = await http.post(
                    f"/api/executions/{execution_id}/signal", json={"name": "go", "payload": 1}
                )
                assert response.status_code == 202, response.text

        ids = [e for p in projects for e in self.open.pop(p, [])]
        await asyncio.gather(*(one(e) for e in ids))


async def start_run(http: httpx.AsyncClient, workflow_id: UUID) -> str:
    """Start a run; a 503 (no worker came up in time on a busy machine: nothing was
    started) is answered by asking again."""
    deadline = time.monotonic() + 120
    while True:
        response = await http.post(f"/api/workflows/{workflow_id}/executions", json={"input": {}})
        if response.status_code == 201:
            return str(response.json()["execution"]["id"])
        assert response.status_code == 503, response.text
        assert time.monotonic() < deadline, f"still refused after 120 s: {response.text}"
        await asyncio.sleep(0.5)


async def sign_up(http: httpx.AsyncClient) -> UUID:
    email = f"u{uuid.uuid4().hex[:10]}@example.test"
    response = await http.post(
        "/api/auth/signup", json={"email": email, "password": "correct horse battery"}
    )
    assert response.status_code == 201, response.text
    http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    return UUID(response.json()["user"]["id"])


async def deployed_workflows(pool: Pool, users: list[UUID], *, count: int) -> list[Workflow]:
    workflows = []
    for n in range(count):
        api = n % len(users)
        project = await make_project(pool, user_id=users[api])
        workflow_id = await make_workflow(pool, project, approval_graph(f"p{n}"), key=f"p{n}")
        async with service_session(pool) as conn:
            await deploy_service.deploy_workflow(conn, workflow_id=workflow_id, compiled_by=None)
        workflows.append(Workflow(id=workflow_id, project_id=project.id, api=api))
    return workflows


async def now(pool: Pool) -> Any:
    return (await query(pool, "SELECT NOW() AS now"))[0]["now"]


async def first_claims(pool: Pool, projects: set[UUID], since: Any) -> dict[UUID, str] | None:
    """The manager of each project's first worker since ``since``; None until all have one."""
    rows = await query(
        pool,
        "SELECT DISTINCT ON (project_id) project_id, metadata->>'manager_id' AS manager "
        "FROM public.workflow_workers WHERE created_at >= %s ORDER BY project_id, created_at",
        since,
    )
    claims = {row["project_id"]: row["manager"] for row in rows if row["project_id"] in projects}
    return claims if set(claims) == projects else None


async def idle(observer: Observer, projects: set[UUID]) -> bool:
    return not projects & set(await observer.owners())


async def all_ended(pool: Pool, ids: set[str]) -> dict[str, int] | None:
    rows = await query(
        pool,
        "SELECT id::text AS id, status FROM public.workflow_executions WHERE id = ANY(%s::uuid[])",
        list(ids),
    )
    statuses = collections.Counter(row["status"] for row in rows)
    if len(rows) < len(ids) or statuses.keys() & {"pending", "running"}:
        return None
    return dict(statuses)
