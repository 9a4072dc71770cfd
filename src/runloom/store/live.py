"""Telling the API processes that an execution changed (Postgres NOTIFY)."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from runloom.naming import EXECUTION_CHANGED_CHANNEL
from runloom.store.queries import sql

__all__ = ["notify_execution_changes"]


async def notify_execution_changes(conn: AsyncConnection[DictRow], payloads: Sequence[str]) -> None:
    if payloads:
        await conn.execute(
            sql("live_notify"), {"channel": EXECUTION_CHANGED_CHANNEL, "payloads": list(payloads)}
        )
