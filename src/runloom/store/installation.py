"""This installation's identity (one row, made by its migrations)."""

from __future__ import annotations

import uuid

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from runloom import naming
from runloom.db.pool import Pool
from runloom.db.session import service_session
from runloom.store.queries import sql

__all__ = ["PlatformQueue", "installation_id"]


async def installation_id(conn: AsyncConnection[DictRow]) -> uuid.UUID:
    """Service session: the id, read once per process."""
    row = await (await conn.execute(sql("installation_id"))).fetchone()
    assert row is not None, "the migrations create the installation's row"
    return uuid.UUID(str(row["id"]))


class PlatformQueue:
    """This installation's platform task queue, read on first use (so that a process can
    start while the database is still coming up) and kept."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool
        self._name: str | None = None

    async def name(self) -> str:
        if self._name is None:
            async with service_session(self._pool) as conn:
                self._name = naming.platform_task_queue(await installation_id(conn))
        return self._name
