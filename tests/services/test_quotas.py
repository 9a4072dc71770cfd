"""Quotas per user against the real, migrated Postgres, with RLS (user sessions)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest

from runloom.db.pool import Pool
from runloom.db.session import service_session, user_session
from runloom.errors import QuotaExceededError
from runloom.services import quotas
from runloom.settings import Settings
from runloom.store import projects
from tests.factory import Project, chain, make_project, make_workflow


def _claims(user_id: uuid.UUID) -> dict[str, str]:
    return {"sub": str(user_id), "role": "authenticated", "aud": "authenticated"}


def _settings(**quota: int) -> Settings:
    values: dict[str, Any] = {f"runloom_quota_{name}": value for name, value in quota.items()}
    return Settings(**values)


async def _create(pool: Pool, user_id: uuid.UUID, name: str, settings: Settings) -> None:
    async with user_session(pool, _claims(user_id)) as conn:
        await quotas.check_new_project(conn, user_id=user_id, settings=settings)
        await projects.create_project(conn, user_id=user_id, name=name, description=None)


async def test_projects_up_to_the_quota_and_not_one_more(pool: Pool) -> None:
    owner = await make_project(pool)  # one project already
    settings = _settings(projects=3)
    await _create(pool, owner.user_id, "two", settings)
    await _create(pool, owner.user_id, "three", settings)
    with pytest.raises(QuotaExceededError) as refused:
        await _create(pool, owner.user_id, "four", settings)
    assert (refused.value.quota, refused.value.setting, refused.value.limit) == (
        "projects",
        "RUNLOOM_QUOTA_PROJECTS",
        3,
    )
    assert str(refused.value) == (
        "quota exceeded: you have 3 projects, and 3 is the most one user may have "
        "(RUNLOOM_QUOTA_PROJECTS=3); delete a project you no longer need, or ask the "
        "operator to raise RUNLOOM_QUOTA_PROJECTS"
    )
    async with user_session(pool, _claims(owner.user_id)) as conn:
        assert len(await projects.list_projects(conn)) == 3
    # Someone else's projects are theirs to count.
    other = await make_project(pool)
    await _create(pool, other.user_id, "mine", settings)


async def _waiting_for_advisory_lock(pool: Pool) -> int:
    async with service_session(pool) as conn:
        cur = await conn.execute(
            "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        )
        row = await cur.fetchone()
    assert row is not None
    return int(row["n"])


async def test_concurrent_creations_cannot_both_take_the_last_place(pool: Pool) -> None:
    owner = await make_project(pool)
    settings = _settings(projects=2)
    inserted = asyncio.Event()
    commit = asyncio.Event()

    async def first() -> None:
        async with user_session(pool, _claims(owner.user_id)) as conn:
            await quotas.check_new_project(conn, user_id=owner.user_id, settings=settings)
            await projects.create_project(
                conn, user_id=owner.user_id, name="first", description=None
            )
            inserted.set()
            await commit.wait()

    async def second() -> None:
        await inserted.wait()
        await _create(pool, owner.user_id, "second", settings)

    first_task = asyncio.create_task(first())
    second_task = asyncio.create_task(second())
    deadline = time.monotonic() + 10
    while await _waiting_for_advisory_lock(pool) == 0:  # the second waits for the first
        assert time.monotonic() < deadline, "the second creation never waited for the lock"
        assert not second_task.done(), second_task
        await asyncio.sleep(0.01)
    commit.set()
    await first_task
    with pytest.raises(QuotaExceededError, match="you have 2 projects"):
        await second_task


async def _open_runs(pool: Pool, project: Project, workflow_id: uuid.UUID, statuses: str) -> None:
    async with service_session(pool) as conn:
        for status in statuses.split():
            await conn.execute(
                "INSERT INTO public.workflow_executions (workflow_id, project_id, status, "
                "created_by) VALUES (%s, %s, %s, %s)",
                (workflow_id, project.id, status, project.user_id),
            )


async def test_open_runs_count_pending_and_running_only(pool: Pool) -> None:
    owner = await make_project(pool)
    workflow_id = await make_workflow(pool, owner, chain())
    await _open_runs(pool, owner, workflow_id, "running pending completed failed cancelled")
    stranger = await make_project(pool)
    await _open_runs(pool, stranger, await make_workflow(pool, stranger, chain()), "running")

    async with user_session(pool, _claims(owner.user_id)) as conn:
        # What a start reads with its context (store.executions.start_context).
        row = await (await conn.execute("SELECT public.open_run_count(10) AS n")).fetchone()
        capped = await (await conn.execute("SELECT public.open_run_count(1) AS n")).fetchone()
    assert row is not None and row["n"] == 2
    assert capped is not None and capped["n"] == 1
    quotas.check_new_run(open_runs=row["n"], settings=_settings(open_runs=3))
    with pytest.raises(QuotaExceededError) as refused:
        quotas.check_new_run(open_runs=row["n"], settings=_settings(open_runs=2))
    assert refused.value.setting == "RUNLOOM_QUOTA_OPEN_RUNS"
    assert "you have 2 runs that have not ended" in str(refused.value)


async def _worker(pool: Pool, project: Project, status: str) -> None:
    async with service_session(pool) as conn:
        await conn.execute(
            "INSERT INTO public.workflow_workers (worker_id, project_id, task_queue_name, "
            "status) VALUES (%s, %s, %s, %s)",
            (f"w-{uuid.uuid4().hex}", project.id, project.task_queue, status),
        )


async def test_workers_count_other_projects_with_an_active_worker(pool: Pool) -> None:
    busy = await make_project(pool)
    idle = await make_project(pool, user_id=busy.user_id)
    stopped = await make_project(pool, user_id=busy.user_id)
    await _worker(pool, busy, "running")
    await _worker(pool, stopped, "stopped")
    await _worker(pool, stopped, "failed")
    settings = _settings(workers=1)

    async with user_session(pool, _claims(busy.user_id)) as conn:
        # The project that has the worker may always have it (reload, restart).
        await quotas.check_new_worker(
            conn, user_id=busy.user_id, project_id=busy.id, settings=settings
        )
        with pytest.raises(QuotaExceededError) as refused:
            await quotas.check_new_worker(
                conn, user_id=busy.user_id, project_id=idle.id, settings=settings
            )
        await quotas.check_new_worker(
            conn, user_id=busy.user_id, project_id=idle.id, settings=_settings(workers=2)
        )
    assert refused.value.quota == "workers"
    assert "you have 1 projects with a running worker" in str(refused.value)
    assert "RUNLOOM_QUOTA_WORKERS=1" in str(refused.value)


def test_run_bounds_come_from_the_settings() -> None:
    bounds = quotas.run_bounds(_settings(for_each_items=7, step_output_kb=2))
    assert (bounds.for_each_items, bounds.step_output_bytes) == (7, 2048)
    defaults = quotas.run_bounds(Settings())
    assert (defaults.for_each_items, defaults.step_output_bytes) == (10_000, 1024 * 1024)
