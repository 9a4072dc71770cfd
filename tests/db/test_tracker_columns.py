"""Executions are written by the platform: users record a start through a checked function
and can neither insert rows directly nor rewrite what the tracker recorded."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from runloom.db import create_pool
from runloom.db.migrate import migrate
from runloom.db.pool import Pool
from runloom.db.session import Claims, service_session, user_session
from runloom.stack.postgres import EmbeddedPostgres
from tests.conftest import MakeUser

# The statement the API runs in the caller's user session in place of an INSERT.
RECORD_START = """
SELECT * FROM public.record_execution_start(
  %(id)s::uuid, %(workflow_id)s::uuid, %(project_id)s::uuid, %(input)s::jsonb,
  %(temporal_workflow_id)s::text, %(temporal_run_id)s::text, %(code_version)s::text,
  %(workflow_type)s::text, %(task_queue_name)s::text
)
"""


@pytest.fixture(scope="module")
def database_url(postgres_server: EmbeddedPostgres) -> str:
    """A database of this module's own: the rows here name Temporal runs that do not
    exist, which the session live stack's tracker would rightly record as lost."""
    url = postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}")
    migrate(url)
    return url


@pytest.fixture(scope="module")
async def pool(database_url: str) -> AsyncIterator[Pool]:
    own = await create_pool(database_url, max_size=4, name="tracker-columns")
    try:
        yield own
    finally:
        await own.close()


@dataclass(frozen=True)
class Owned:
    project_id: uuid.UUID
    workflow_id: uuid.UUID
    key: str
    task_queue: str


async def _workflow(pool: Pool, claims: Claims, *, key: str = "greet") -> Owned:
    """A project with one workflow and its stored version 1, created as the user."""
    uid = claims["sub"]
    project_id = uuid.uuid4()
    task_queue = f"{uid}-{project_id}"
    async with user_session(pool, claims) as conn:
        await conn.execute(
            "INSERT INTO projects (id, name, created_by, task_queue_name) VALUES (%s, %s, %s, %s)",
            (project_id, f"p-{project_id.hex[:6]}", uid, task_queue),
        )
        row = await (
            await conn.execute(
                "INSERT INTO workflows (name, key, created_by, project_id) "
                "VALUES (%s, %s, %s, %s) RETURNING id",
                (key, key, uid, project_id),
            )
        ).fetchone()
        assert row is not None
        await conn.execute(
            "INSERT INTO workflow_compiled_code (workflow_id, version, workflow_code, "
            "activities_code, worker_code, requirements_txt, compiler_options_json, compiled_by)"
            " VALUES (%s, '1', '', '', '', '', '{}', %s)",
            (row["id"], uid),
        )
    return Owned(project_id, row["id"], key, task_queue)


def _start_args(owned: Owned, **overrides: Any) -> dict[str, Any]:
    """What the API passes when it has started a run of version 1 with Temporal."""
    execution_id = overrides.pop("id", uuid.uuid4())
    args = {
        "id": execution_id,
        "workflow_id": owned.workflow_id,
        "project_id": owned.project_id,
        "input": Jsonb({"name": "Ada"}),
        "temporal_workflow_id": f"{owned.key}-{execution_id}",
        "temporal_run_id": uuid.uuid4().hex,
        "code_version": "1",
        "workflow_type": f"{owned.key}@v1",
        "task_queue_name": owned.task_queue,
    }
    args.update(overrides)
    return args


async def _record(pool: Pool, claims: Claims, args: dict[str, Any]) -> DictRow:
    async with user_session(pool, claims) as conn:
        row = await (await conn.execute(RECORD_START, args)).fetchone()
    assert row is not None
    return row


async def _count(pool: Pool, workflow_id: uuid.UUID) -> int:
    async with service_session(pool) as conn:
        row = await (
            await conn.execute(
                "SELECT count(*) AS n FROM workflow_executions WHERE workflow_id = %s",
                (workflow_id,),
            )
        ).fetchone()
    assert row is not None
    return int(row["n"])


async def test_a_user_cannot_insert_an_execution_directly(pool: Pool, make_user: MakeUser) -> None:
    user = await make_user()
    owned = await _workflow(pool, user)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
        async with user_session(pool, user) as conn:
            await conn.execute(
                "INSERT INTO workflow_executions (workflow_id, project_id, status, created_by, "
                "temporal_workflow_id, temporal_run_id) VALUES (%s, %s, 'completed', %s, %s, %s)",
                (owned.workflow_id, owned.project_id, user["sub"], "someone-elses-run", "r"),
            )
    assert await _count(pool, owned.workflow_id) == 0


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("status", "'completed'"),
        ("output", """'{"forged": true}'::jsonb"""),
        ("node_states", """'{"n1": {"status": "completed"}}'::jsonb"""),
        ("temporal_workflow_id", "'another-run'"),
    ],
)
async def test_a_user_cannot_rewrite_their_own_execution(
    pool: Pool, make_user: MakeUser, column: str, value: str
) -> None:
    user = await make_user()
    owned = await _workflow(pool, user)
    recorded = await _record(pool, user, _start_args(owned))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
        async with user_session(pool, user) as conn:
            await conn.execute(
                f"UPDATE workflow_executions SET {column} = {value} WHERE id = %s",
                (recorded["id"],),
            )
    async with user_session(pool, user) as conn:
        row = await (
            await conn.execute("SELECT * FROM workflow_executions WHERE id = %s", (recorded["id"],))
        ).fetchone()
    assert row == recorded


async def test_recording_a_start_returns_the_row_the_api_inserted_before(
    pool: Pool, make_user: MakeUser, database_url: str
) -> None:
    user = await make_user()
    owned = await _workflow(pool, user)
    args = _start_args(owned)
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as listener:
        await listener.execute("LISTEN runloom_executions")
        row = await _record(pool, user, args)

        async def delivered() -> None:
            async for notify in listener.notifies():
                if notify.payload == str(args["id"]):
                    return

        await asyncio.wait_for(delivered(), timeout=5)

    async with user_session(pool, user) as conn:
        stored = await (
            await conn.execute("SELECT * FROM workflow_executions WHERE id = %s", (args["id"],))
        ).fetchone()
    assert stored is not None
    assert list(row) == list(stored)  # the same columns, in the same order, as RETURNING *
    assert row == stored
    assert row["status"] == "running"
    assert str(row["created_by"]) == user["sub"]
    assert row["started_at"] is not None and row["finished_at"] is None
    assert row["input"] == {"name": "Ada"}
    for name in (
        "workflow_id",
        "project_id",
        "temporal_workflow_id",
        "temporal_run_id",
        "code_version",
        "workflow_type",
        "task_queue_name",
    ):
        assert row[name] == args[name], name


async def test_a_start_without_a_run_id_is_recorded(pool: Pool, make_user: MakeUser) -> None:
    user = await make_user()
    owned = await _workflow(pool, user)
    row = await _record(pool, user, _start_args(owned, temporal_run_id=None))
    assert row["temporal_run_id"] is None and row["status"] == "running"


async def test_recording_a_start_of_another_users_workflow_is_refused(
    pool: Pool, make_user: MakeUser
) -> None:
    owner, intruder = await make_user(), await make_user()
    owned = await _workflow(pool, owner)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="not found"):
        await _record(pool, intruder, _start_args(owned))
    assert await _count(pool, owned.workflow_id) == 0


async def test_recording_a_start_under_another_project_is_refused(
    pool: Pool, make_user: MakeUser
) -> None:
    user = await make_user()
    owned, other = await _workflow(pool, user), await _workflow(pool, user, key="other")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="is not in project"):
        await _record(pool, user, _start_args(owned, project_id=other.project_id))
    with pytest.raises(psycopg.errors.InvalidParameterValue, match="task queue"):
        await _record(pool, user, _start_args(owned, task_queue_name=other.task_queue))
    assert await _count(pool, owned.workflow_id) == 0


async def test_recording_a_start_cannot_point_at_a_run_of_someone_else(
    pool: Pool, make_user: MakeUser
) -> None:
    victim, user = await make_user(), await make_user()
    victims = await _workflow(pool, victim)
    theirs = await _record(pool, victim, _start_args(victims))
    owned = await _workflow(pool, user)
    forged = [
        {"temporal_workflow_id": theirs["temporal_workflow_id"]},
        {"id": theirs["id"], "temporal_workflow_id": theirs["temporal_workflow_id"]},
        {"code_version": "2", "workflow_type": f"{owned.key}@v2"},
        {"workflow_type": "greet@v1-other"},
    ]
    for overrides in forged:
        with pytest.raises(psycopg.errors.DatabaseError):
            await _record(pool, user, _start_args(owned, **overrides))
    assert await _count(pool, owned.workflow_id) == 0


async def test_anon_cannot_record_a_start(pool: Pool, make_user: MakeUser) -> None:
    user = await make_user()
    owned = await _workflow(pool, user)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
        async with pool.connection() as conn, conn.transaction():
            await conn.execute("SELECT set_config('role', 'anon', true)")
            await conn.execute(RECORD_START, _start_args(owned))


async def test_the_tracker_still_writes_as_service_role(pool: Pool, make_user: MakeUser) -> None:
    user = await make_user()
    owned = await _workflow(pool, user)
    recorded = await _record(pool, user, _start_args(owned))
    async with service_session(pool) as conn:
        cur = await conn.execute(
            "UPDATE workflow_executions SET status = 'completed', output = %s, "
            "node_states = %s, finished_at = NOW() WHERE id = %s",
            (Jsonb({"ok": True}), Jsonb({"n1": {"status": "completed"}}), recorded["id"]),
        )
        assert cur.rowcount == 1
    async with user_session(pool, user) as conn:
        row = await (
            await conn.execute(
                "SELECT status, output FROM workflow_executions WHERE id = %s", (recorded["id"],)
            )
        ).fetchone()
    assert row == {"status": "completed", "output": {"ok": True}}


async def test_a_user_can_still_read_and_delete_their_executions(
    pool: Pool, make_user: MakeUser
) -> None:
    user = await make_user()
    owned = await _workflow(pool, user)
    recorded = await _record(pool, user, _start_args(owned))
    async with user_session(pool, user) as conn:
        cur = await conn.execute("DELETE FROM workflow_executions WHERE id = %s", (recorded["id"],))
        assert cur.rowcount == 1
