"""Fair claims (runloom.manager.turns): the least loaded live manager starts a project's
worker, the others leave it to that one, and claim it themselves only if it does not."""

from __future__ import annotations

import asyncio
from uuid import UUID

import pytest

from runloom.db.pool import Pool
from runloom.db.session import service_session
from runloom.manager import turns
from runloom.store import managers
from tests.factory import chain, make_project, make_workflow

from .conftest import MakeManager, worker_rows
from .test_worker_manager import deploy

pytestmark = pytest.mark.timeout(90)


async def _deployed_project(pool: Pool, key: str) -> UUID:
    project = await make_project(pool)
    await deploy(pool, await make_workflow(pool, project, chain(output="ok"), key=key))
    return project.id


async def test_the_least_loaded_manager_claims_and_the_other_leaves_it(
    pool: Pool, make_manager: MakeManager
) -> None:
    busy, free = await make_manager(), await make_manager()
    await turns.register(busy)
    await turns.register(free)
    try:
        await busy.start_worker_for_project(await _deployed_project(pool, "first"))
        project_id = await _deployed_project(pool, "second")

        # Both hear that the project needs a worker, as from one NOTIFY.
        await asyncio.gather(
            turns.start_in_turn(busy, project_id), turns.start_in_turn(free, project_id)
        )

        assert project_id in free.handles and project_id not in busy.handles
        rows = await worker_rows(pool, project_id)
        assert [(r["status"], r["metadata"]["manager_id"]) for r in rows] == [
            ("running", free.manager_id)
        ]
    finally:
        await turns.unregister(busy)
        await turns.unregister(free)


async def test_a_chosen_manager_that_never_claims_is_passed_over(
    pool: Pool, make_manager: MakeManager
) -> None:
    manager = await make_manager()
    await turns.register(manager)
    await manager.start_worker_for_project(await _deployed_project(pool, "load"))
    # A manager that heartbeats (for now) and has no worker: the least loaded one.
    async with service_session(pool) as conn:
        await managers.register(conn, manager_id="silent", host="nowhere")
    project_id = await _deployed_project(pool, "waiting")
    try:
        await turns.start_in_turn(manager, project_id)

        assert project_id in manager.handles, "claimed once the takeover time passed"
        (row,) = await worker_rows(pool, project_id)
        assert row["metadata"]["manager_id"] == manager.manager_id
    finally:
        async with service_session(pool) as conn:
            await managers.unregister(conn, manager_id="silent")
        await turns.unregister(manager)
