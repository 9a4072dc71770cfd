"""The async connection pool shared by every part of a runloom process."""

from __future__ import annotations

from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

Pool = AsyncConnectionPool[AsyncConnection[DictRow]]


async def create_pool(
    database_url: str, *, min_size: int = 1, max_size: int = 10, name: str = "runloom"
) -> Pool:
    """Open a pool whose connections return rows as dicts.

    `prepare_threshold=None` keeps psycopg from preparing statements server-side, which
    PgBouncer in transaction mode (Supabase's pooler) cannot follow. Each connection is
    checked as it is handed out (an empty query): after a database restart, a dead one is
    replaced instead of failing the first request that draws it.
    """
    pool: Pool = AsyncConnectionPool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        name=name,
        open=False,
        check=AsyncConnectionPool.check_connection,
        connection_class=AsyncConnection[DictRow],
        kwargs={"row_factory": dict_row, "autocommit": True, "prepare_threshold": None},
    )
    await pool.open(wait=True, timeout=30)
    return pool
