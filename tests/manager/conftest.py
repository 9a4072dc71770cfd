"""Managers with short intervals against their own database and the session's Temporal.

These tests run managers of their own; a database of their own keeps any other manager
of the session (the live stack's, serving the API tests) from claiming their projects.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from uuid import UUID

import pytest
from temporalio.client import Client

from runloom.db.migrate import migrate
from runloom.db.pool import Pool, create_pool
from runloom.db.session import service_session
from runloom.manager import loops
from runloom.manager.handles import WorkerLaunch
from runloom.manager.restart_policy import RestartPolicy
from runloom.manager.workers import ProjectWorkerManager
from runloom.stack.postgres import EmbeddedPostgres
from runloom.worker.forked import close_zygotes

HEARTBEAT_S = 0.5


@pytest.fixture(scope="session")
def database_url(postgres_server: EmbeddedPostgres) -> str:
    url = postgres_server.create_database("managers")
    migrate(url)
    return url


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[Pool]:
    pool = await create_pool(database_url, max_size=20, name="manager-tests")
    try:
        yield pool
    finally:
        await pool.close()


MakeManager = Callable[..., Awaitable[ProjectWorkerManager]]


@pytest.fixture
async def make_manager(
    pool: Pool, temporal_client: Client, database_url: str
) -> AsyncIterator[MakeManager]:
    """Managers (optionally serving their loops) that are closed when the test ends."""
    made: list[tuple[ProjectWorkerManager, asyncio.Event, asyncio.Task[None] | None]] = []

    async def make(
        *,
        serve: bool = False,
        max_restarts: int = 5,
        memory_mb: int = 1024,
        **options: Any,
    ) -> ProjectWorkerManager:
        settings: dict[str, Any] = {
            "heartbeat_s": HEARTBEAT_S,
            "idle_timeout_s": 600.0,
            "backlog_poll_s": 0.5,
        }
        settings.update(options)
        manager = ProjectWorkerManager(
            pool=pool,
            client=temporal_client,
            policy=RestartPolicy(max_restarts=max_restarts, backoff_initial_s=0.2),
            launch=WorkerLaunch(memory_mb=memory_mb, graceful_shutdown_s=5.0, start_timeout_s=20.0),
            **settings,
        )
        stop = asyncio.Event()
        task = (
            asyncio.create_task(loops.serve(manager, database_url=database_url, stop=stop))
            if serve
            else None
        )
        made.append((manager, stop, task))
        return manager

    yield make
    for manager, stop, task in made:
        stop.set()
        if task is not None:
            await task
        else:
            await manager.close()


async def worker_rows(pool: Pool, project_id: UUID) -> list[dict[str, Any]]:
    async with service_session(pool) as conn:
        cur = await conn.execute(
            "SELECT *, NOW() - last_heartbeat AS heartbeat_age FROM public.workflow_workers "
            "WHERE project_id = %s ORDER BY created_at",
            (project_id,),
        )
        return list(await cur.fetchall())


async def eventually(
    check: Callable[[], Awaitable[Any]], *, within_s: float, what: str, every_s: float = 0.1
) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what``."""
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        with contextlib.suppress(AssertionError):
            result = await check()
            if result:
                return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {within_s} s waiting for {what}")
        await asyncio.sleep(every_s)


@pytest.fixture(scope="session", autouse=True)
def _zygotes_closed() -> Iterator[None]:
    """Managers made here share the process's zygotes (runloom.worker.forked); the
    session lets go of them at its end, as run_manager does when it stops."""
    yield
    close_zygotes()
