"""What a user holds right now, counted for quotas (the rules are in services.quotas)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from runloom.store.queries import sql

__all__ = [
    "ActiveWorkers",
    "active_workers",
    "count_projects",
    "lock_user",
]

Conn = AsyncConnection[DictRow]


@dataclass(frozen=True, slots=True)
class ActiveWorkers:
    """Workers starting or running for a user's projects, seen from one project."""

    others: int
    this_project: bool


async def lock_user(conn: Conn, *, user_id: uuid.UUID, purpose: str) -> None:
    """Hold a per-user lock for ``purpose`` until the transaction ends.

    Run it before the count it protects: the count's snapshot must be taken after the
    lock is held, which in READ COMMITTED means in a later statement.
    """
    await conn.execute(sql("usage_lock_user"), {"key": f"runloom.quota.{purpose}:{user_id}"})


async def _count(conn: Conn, name: str, params: dict[str, object]) -> int:
    row = await (await conn.execute(sql(name), params)).fetchone()
    assert row is not None  # count(*) always answers one row
    return int(row["n"])


async def count_projects(conn: Conn, *, user_id: uuid.UUID) -> int:
    return await _count(conn, "usage_count_projects", {"user_id": user_id})


async def active_workers(conn: Conn, *, user_id: uuid.UUID, project_id: uuid.UUID) -> ActiveWorkers:
    cur = await conn.execute(
        sql("usage_active_workers"), {"user_id": user_id, "project_id": project_id}
    )
    row = await cur.fetchone()
    assert row is not None  # an aggregate without GROUP BY always answers one row
    return ActiveWorkers(others=int(row["others"]), this_project=bool(row["this_project"]))
