"""The installation's namespace policy, and the namespaces projects were given."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from runloom.store.queries import sql

__all__ = ["publish_policy", "schedule_namespaces", "user_namespaces"]


async def publish_policy(
    conn: AsyncConnection[DictRow],
    *,
    mode: str,
    prefix: str,
    mapping: Mapping[str, str],
    create: bool,
) -> None:
    """Service session: what the database's project trigger names namespaces by."""
    await conn.execute(
        sql("namespaces_publish_policy"),
        {"mode": mode, "prefix": prefix, "mapping": Jsonb(dict(mapping)), "create": create},
    )


async def user_namespaces(conn: AsyncConnection[DictRow], *, user_id: uuid.UUID) -> list[str]:
    cur = await conn.execute(sql("namespaces_of_user"), {"user_id": user_id})
    return [row["name"] for row in await cur.fetchall()]


async def schedule_namespaces(conn: AsyncConnection[DictRow]) -> set[str]:
    """Service session: the namespaces of their own that hold schedule triggers."""
    cur = await conn.execute(sql("namespaces_with_schedules"))
    return {row["name"] for row in await cur.fetchall()}
