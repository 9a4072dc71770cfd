"""Row Level Security as the `authenticated` role: each user sees and touches only their own."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from runloom.db.pool import Pool
from runloom.db.session import Claims, service_session, user_session
from tests.conftest import MakeUser

OWNED_TABLES = [
    "users",
    "projects",
    "workflows",
    "workflow_compiled_code",
    "workflow_executions",
    "workflow_workers",
    "activity_statistics",
    "user_credentials",
]


async def _seed_everything(pool: Pool, claims: Claims) -> dict[str, Any]:
    """One row in every table for this user, written the way runloom writes them."""
    uid = claims["sub"]
    project_id = uuid.uuid4()
    async with user_session(pool, claims) as conn:
        await conn.execute(
            "INSERT INTO projects (id, name, created_by, task_queue_name) VALUES (%s, %s, %s, %s)",
            (project_id, "p", uid, f"{uid}-{project_id}"),
        )
        wf = await (
            await conn.execute(
                "INSERT INTO workflows (name, key, created_by, project_id) "
                "VALUES ('w', 'w', %s, %s) RETURNING id",
                (uid, project_id),
            )
        ).fetchone()
        assert wf is not None
        await conn.execute(
            "INSERT INTO workflow_compiled_code (workflow_id, version, workflow_code, "
            "activities_code, worker_code, requirements_txt, compiler_options_json, compiled_by)"
            " VALUES (%s, '1', '', '', '', '', '{}', %s)",
            (wf["id"], uid),
        )
    async with service_session(pool) as conn:
        # Executions are the platform's to write (users start runs through the API).
        await conn.execute(
            "INSERT INTO workflow_executions (workflow_id, project_id, created_by) "
            "VALUES (%s, %s, %s)",
            (wf["id"], project_id, uid),
        )
        await conn.execute(
            "INSERT INTO workflow_workers (worker_id, project_id, task_queue_name, status) "
            "VALUES (%s, %s, %s, 'running')",
            (f"w-{project_id}", project_id, f"{uid}-{project_id}"),
        )
        await conn.execute("SELECT record_activity_execution(%s, 'a', 5, true)", (project_id,))
        await conn.execute(
            "INSERT INTO user_credentials (user_id, password_hash) VALUES (%s, 'x')", (uid,)
        )
    return {"project_id": project_id, "workflow_id": wf["id"]}


async def _visible_counts(pool: Pool, claims: Claims) -> dict[str, int]:
    counts = {}
    async with user_session(pool, claims) as conn:
        for table in OWNED_TABLES:
            if table == "user_credentials":
                continue
            row = await (await conn.execute(f"SELECT count(*) AS n FROM {table}")).fetchone()  # type: ignore[arg-type]
            assert row is not None
            counts[table] = row["n"]
    return counts


async def test_user_b_sees_none_of_user_a_rows(pool: Pool, make_user: MakeUser) -> None:
    a, b = await make_user(), await make_user()
    await _seed_everything(pool, a)
    seen_by_a = await _visible_counts(pool, a)
    assert all(n >= 1 for n in seen_by_a.values()), seen_by_a
    seen_by_b = await _visible_counts(pool, b)
    assert seen_by_b == {t: (1 if t == "users" else 0) for t in seen_by_b}


async def test_credentials_are_never_readable_by_a_user(pool: Pool, make_user: MakeUser) -> None:
    a = await make_user()
    await _seed_everything(pool, a)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        async with user_session(pool, a) as conn:
            await conn.execute("SELECT * FROM user_credentials")


async def test_user_b_cannot_insert_a_project_owned_by_a(pool: Pool, make_user: MakeUser) -> None:
    a, b = await make_user(), await make_user()
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        async with user_session(pool, b) as conn:
            await conn.execute(
                "INSERT INTO projects (name, created_by, task_queue_name) VALUES ('x', %s, %s)",
                (a["sub"], f"{a['sub']}-x"),
            )


async def test_user_b_cannot_add_a_workflow_to_a_project_of_a(
    pool: Pool, make_user: MakeUser
) -> None:
    a, b = await make_user(), await make_user()
    ids = await _seed_everything(pool, a)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        async with user_session(pool, b) as conn:
            await conn.execute(
                "INSERT INTO workflows (name, key, created_by, project_id) "
                "VALUES ('x', 'x', %s, %s)",
                (b["sub"], ids["project_id"]),
            )


async def test_user_b_cannot_update_or_delete_rows_of_a(pool: Pool, make_user: MakeUser) -> None:
    a, b = await make_user(), await make_user()
    ids = await _seed_everything(pool, a)
    async with user_session(pool, b) as conn:
        for statement, args in [
            ("UPDATE projects SET name = 'stolen' WHERE id = %s", (ids["project_id"],)),
            ("DELETE FROM projects WHERE id = %s", (ids["project_id"],)),
            ("UPDATE workflows SET graph = '{}' WHERE id = %s", (ids["workflow_id"],)),
            ("DELETE FROM workflows WHERE id = %s", (ids["workflow_id"],)),
            ("DELETE FROM workflow_compiled_code WHERE workflow_id = %s", (ids["workflow_id"],)),
            ("UPDATE users SET email = 'x@y.z' WHERE id = %s", (a["sub"],)),
        ]:
            cursor = await conn.execute(statement, args)  # type: ignore[arg-type]
            assert cursor.rowcount == 0, statement
    assert (await _visible_counts(pool, a))["projects"] >= 1


async def test_users_cannot_write_registry_or_statistics(pool: Pool, make_user: MakeUser) -> None:
    a = await make_user()
    ids = await _seed_everything(pool, a)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        async with user_session(pool, a) as conn:
            await conn.execute(
                "UPDATE workflow_workers SET status = 'stopped' WHERE project_id = %s",
                (ids["project_id"],),
            )
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        async with user_session(pool, a) as conn:
            await conn.execute("SELECT increment_project_stats(%s, 10)", (ids["project_id"],))


async def test_service_role_sees_every_user(pool: Pool, make_user: MakeUser) -> None:
    a, b = await make_user(), await make_user()
    await _seed_everything(pool, a)
    await _seed_everything(pool, b)
    async with service_session(pool) as conn:
        for table in OWNED_TABLES:
            row = await (
                await conn.execute(f"SELECT count(*) AS n FROM {table}")  # type: ignore[arg-type]
            ).fetchone()
            assert row is not None and row["n"] >= 2, table


async def test_identity_does_not_leak_between_pooled_transactions(
    pool: Pool, make_user: MakeUser
) -> None:
    a = await make_user()
    async with user_session(pool, a) as conn:
        await conn.execute("SELECT 1")
    async with pool.connection() as conn:
        row = await (
            await conn.execute(
                "SELECT current_user AS who, current_setting('request.jwt.claims', true) AS c"
            )
        ).fetchone()
    assert row is not None
    assert row["who"] != "authenticated" and not row["c"]
