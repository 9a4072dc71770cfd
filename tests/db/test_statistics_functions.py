"""The seed's atomic statistics functions and the one-active-worker lock, under concurrency."""

from __future__ import annotations

import asyncio
import uuid

import psycopg
import pytest

from runloom.db.pool import Pool
from runloom.db.session import service_session, user_session
from tests.conftest import MakeUser


async def _project(pool: Pool, make_user: MakeUser) -> uuid.UUID:
    claims = await make_user()
    project_id = uuid.uuid4()
    async with user_session(pool, claims) as conn:
        await conn.execute(
            "INSERT INTO projects (id, name, created_by, task_queue_name) VALUES (%s, 'p', %s, %s)",
            (project_id, claims["sub"], f"{claims['sub']}-{project_id}"),
        )
    return project_id


async def test_fifty_concurrent_increments_count_fifty_with_the_exact_average(
    pool: Pool, make_user: MakeUser
) -> None:
    project_id = await _project(pool, make_user)
    durations = [10 * (i + 1) for i in range(50)]  # mean 255

    async def record(duration: int) -> None:
        async with service_session(pool) as conn:
            await conn.execute("SELECT increment_project_stats(%s, %s)", (project_id, duration))

    await asyncio.gather(*(record(d) for d in durations))
    async with service_session(pool) as conn:
        row = await (
            await conn.execute(
                "SELECT total_workflow_executions AS n, avg_execution_duration_ms AS avg, "
                "last_execution_at FROM projects WHERE id = %s",
                (project_id,),
            )
        ).fetchone()
    assert row is not None
    assert row["n"] == 50
    assert row["avg"] == round(sum(durations) / len(durations))
    assert row["last_execution_at"] is not None


async def test_activity_percentiles_come_from_every_recorded_duration(
    pool: Pool, make_user: MakeUser
) -> None:
    project_id = await _project(pool, make_user)
    durations = list(range(1, 1001))  # p95 = 950, p99 = 990

    async def record(duration: int) -> None:
        async with service_session(pool) as conn:
            await conn.execute(
                "SELECT record_activity_execution(%s, 'fetch', %s, %s)",
                (project_id, duration, duration % 10 != 0),
            )

    for chunk in range(0, len(durations), 50):
        await asyncio.gather(*(record(d) for d in durations[chunk : chunk + 50]))
    async with service_session(pool) as conn:
        row = await (
            await conn.execute(
                "SELECT * FROM activity_statistics WHERE project_id = %s", (project_id,)
            )
        ).fetchone()
    assert row is not None
    assert (row["execution_count"], row["success_count"], row["failure_count"]) == (1000, 900, 100)
    assert row["avg_duration_ms"] == 501  # 500.5, rounded half away from zero
    assert 950 * 0.9 <= row["p95_duration_ms"] <= 950 * 1.1
    assert 990 * 0.9 <= row["p99_duration_ms"] <= 1000


async def test_a_second_active_worker_for_a_project_is_rejected(
    pool: Pool, make_user: MakeUser
) -> None:
    project_id = await _project(pool, make_user)
    insert = (
        "INSERT INTO workflow_workers (worker_id, project_id, task_queue_name, status) "
        "VALUES (%s, %s, 'q', %s)"
    )
    async with service_session(pool) as conn:
        await conn.execute(insert, (f"a-{project_id}", project_id, "running"))
    with pytest.raises(psycopg.errors.UniqueViolation, match="idx_one_active_worker_per_project"):
        async with service_session(pool) as conn:
            await conn.execute(insert, (f"b-{project_id}", project_id, "starting"))
    async with service_session(pool) as conn:
        # Stopped and failed rows are history: any number of them may exist.
        await conn.execute(insert, (f"c-{project_id}", project_id, "stopped"))
        await conn.execute(insert, (f"d-{project_id}", project_id, "failed"))
