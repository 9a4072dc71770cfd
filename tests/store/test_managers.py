"""Whose turn it is to start a project's worker (runloom.store.managers), on real Postgres.

A database of its own: any manager of the session's live stack registers in the shared
one, and would be a candidate for every turn.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

import pytest

from runloom.db.migrate import migrate
from runloom.db.pool import Pool, create_pool
from runloom.db.session import service_session
from runloom.store import managers, registry
from tests.factory import Project, make_project

STALE_S = 3.0


@pytest.fixture
async def own_pool(empty_database_url: str) -> AsyncIterator[Pool]:
    migrate(empty_database_url)
    pool = await create_pool(empty_database_url, max_size=4, name="turn-tests")
    try:
        yield pool
    finally:
        await pool.close()


async def _register(pool: Pool, *names: str) -> None:
    async with service_session(pool) as conn:
        for name in names:
            await managers.register(conn, manager_id=name, host="test")


async def _turn(pool: Pool, project: Project, manager_id: str) -> managers.Turn:
    async with service_session(pool) as conn:
        return await managers.turn(
            conn, project_id=project.id, manager_id=manager_id, stale_s=STALE_S
        )


async def _claim(pool: Pool, project: Project, manager_id: str) -> UUID:
    async with service_session(pool) as conn:
        return await registry.claim(
            conn,
            worker_id=f"w-{project.id}",
            project=registry.ProjectQueue(project.id, project.task_queue),
            host="test",
            metadata={"manager_id": manager_id},
        )


async def test_the_manager_with_fewest_projects_gets_the_turn(own_pool: Pool) -> None:
    await _register(own_pool, "busy", "idle")
    for _ in range(2):
        await _claim(own_pool, await make_project(own_pool), "busy")
    project = await make_project(own_pool)

    assert await _turn(own_pool, project, "busy") == managers.Turn(served=False, pick="idle")
    assert await _turn(own_pool, project, "idle") == managers.Turn(served=False, pick="idle")
    # Once "idle" claims it, the project is served: nobody else's turn.
    await _claim(own_pool, project, "idle")
    assert await _turn(own_pool, project, "busy") == managers.Turn(served=True, pick=None)


async def test_a_turn_taken_counts_before_the_worker_is_claimed(own_pool: Pool) -> None:
    """Sixty projects waking at once must not all go to the manager that was least
    loaded when they woke."""
    await _register(own_pool, "a", "b")
    projects = [await make_project(own_pool) for _ in range(10)]
    taken = {"a": 0, "b": 0}
    for project in projects:
        for name in ("a", "b"):
            turn = await _turn(own_pool, project, name)
            if turn.pick == name:
                taken[name] += 1
                break
    assert taken == {"a": 5, "b": 5}
    # Whoever took a turn keeps it while it starts the worker.
    first = await _turn(own_pool, projects[0], "a")
    assert await _turn(own_pool, projects[0], "b") == first


async def test_a_dead_manager_is_never_given_a_turn(own_pool: Pool) -> None:
    await _register(own_pool, "dead", "live")
    await _claim(own_pool, await make_project(own_pool), "live")
    async with service_session(own_pool) as conn:
        await conn.execute(
            "UPDATE public.runloom_managers SET last_heartbeat = NOW() - interval '1 minute' "
            "WHERE manager_id = 'dead'"
        )
    project = await make_project(own_pool)
    assert (await _turn(own_pool, project, "dead")).pick == "live"
    async with service_session(own_pool) as conn:
        await managers.forget_dead(conn, forget_s=30)
        await managers.unregister(conn, manager_id="live")
        cur = await conn.execute("SELECT count(*) AS n FROM public.runloom_managers")
        row = await cur.fetchone()
    assert row is not None and row["n"] == 0
    assert (await _turn(own_pool, project, "anyone")).pick is None, "no manager is live"
