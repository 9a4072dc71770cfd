"""A benchmark user of the API, and what the database has recorded of its runs."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg

OPEN = ("pending", "running")


class BenchError(RuntimeError):
    """A benchmark could not run as planned (an API call failed, a run did not end)."""


def check(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        raise BenchError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:300]}"
        )
    body: dict[str, Any] = response.json()
    return body


@dataclass(frozen=True)
class Deployed:
    project_id: str
    task_queue: str
    workflow_id: str
    workflow_type: str


async def sign_up(http: httpx.AsyncClient) -> dict[str, str]:
    """A new user; its bearer header."""
    email = f"bench-{uuid.uuid4().hex[:10]}@example.test"
    session = check(
        await http.post("/api/auth/signup", json={"email": email, "password": "benchmark!"})
    )
    return {"Authorization": f"Bearer {session['access_token']}"}


async def deploy(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    graph: dict[str, Any],
    *,
    name: str,
    project_id: str | None = None,
    within_s: float = 120,
) -> Deployed:
    """A project (unless given), a workflow of `graph`, built and run once to the end, so
    that its worker is up and warm."""
    if project_id is None:
        new = {"name": name}
        project = check(await http.post("/api/projects", json=new, headers=headers))["project"]
        project_id = project["id"]
    else:
        project = check(await http.get(f"/api/projects/{project_id}", headers=headers))["project"]
    body = {"project_id": project_id, "name": name, "graph": graph}
    workflow = check(await http.post("/api/workflows", json=body, headers=headers))["workflow"]
    build = check(
        await http.post(f"/api/workflows/{workflow['id']}/build", json={}, headers=headers)
    )
    await wait_recorded(http, headers, build["execution_id"], within_s=within_s)
    return Deployed(
        project_id=project_id,
        task_queue=project["task_queue_name"],
        workflow_id=workflow["id"],
        workflow_type=build["workflow_type"],
    )


async def warm_up(
    http: httpx.AsyncClient, headers: dict[str, str], graph: dict[str, Any], *, within_s: float
) -> Deployed:
    """The first Build of the run, once the stack can serve it: the manager may still be
    starting (its own process under `runloom up`), which the API answers with 503 "no
    worker serving" until then."""
    deadline = time.monotonic() + within_s
    while True:
        try:
            return await deploy(http, headers, graph, name="warm-up", within_s=within_s)
        except BenchError as error:
            if "503" not in str(error) or time.monotonic() > deadline:
                raise
            await asyncio.sleep(1.0)


async def wait_recorded(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    execution_id: str,
    *,
    within_s: float = 120,
    poll_s: float = 0.05,
) -> dict[str, Any]:
    """The execution once the API shows it ended; BenchError unless it completed."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        response = await http.get(f"/api/executions/{execution_id}", headers=headers)
        execution: dict[str, Any] = check(response)["execution"]
        if execution["status"] not in OPEN:
            if execution["status"] != "completed":
                raise BenchError(f"run {execution_id} ended {execution['status']}: {execution}")
            return execution
        await asyncio.sleep(poll_s)
    raise BenchError(f"run {execution_id} did not end within {within_s:.0f} s")


class Recorded:
    """Reads the database directly (as the admin), so that watching costs the API nothing."""

    def __init__(self, admin_url: str) -> None:
        self._admin_url = admin_url
        self._conn: psycopg.AsyncConnection[Any] | None = None

    async def __aenter__(self) -> Recorded:
        self._conn = await psycopg.AsyncConnection.connect(self._admin_url, autocommit=True)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._conn is not None:
            await self._conn.close()

    async def counts(self, workflow_ids: list[str]) -> dict[str, int]:
        """Runs of these workflows by status."""
        assert self._conn is not None
        cursor = await self._conn.execute(
            "SELECT status, count(*) FROM public.workflow_executions "
            "WHERE workflow_id = ANY(%s::uuid[]) GROUP BY status",
            (workflow_ids,),
        )
        return {str(status): int(n) for status, n in await cursor.fetchall()}

    async def status(self, execution_id: str) -> str:
        assert self._conn is not None
        cursor = await self._conn.execute(
            "SELECT status FROM public.workflow_executions WHERE id = %s", (execution_id,)
        )
        row = await cursor.fetchone()
        return "missing" if row is None else str(row[0])

    async def until_ended(
        self, execution_id: str, *, within_s: float = 300, poll_s: float = 0.002
    ) -> str:
        """Polls one run until it is recorded as ended; its status."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            status = await self.status(execution_id)
            if status not in (*OPEN, "missing"):
                return status
            await asyncio.sleep(poll_s)
        raise BenchError(f"run {execution_id} was not recorded as ended within {within_s:.0f} s")

    async def until_done(
        self, workflow_ids: list[str], expected: int, *, within_s: float, poll_s: float = 0.05
    ) -> dict[str, int]:
        """Polls until `expected` runs of these workflows have ended (or `within_s` passes); the
        counts by status at that moment."""
        deadline = time.monotonic() + within_s
        while True:
            counts = await self.counts(workflow_ids)
            ended = sum(n for status, n in counts.items() if status not in OPEN)
            if ended >= expected or time.monotonic() > deadline:
                return counts
            await asyncio.sleep(poll_s)
