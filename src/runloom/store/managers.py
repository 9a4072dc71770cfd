"""The live managers, ``runloom_managers``: who may be given a project that needs a worker.

Each manager heartbeats its row; :func:`turn` asks the database which live manager has
the fewest projects (``public.take_worker_turn``: active workers and turns held), so that
every manager reaches the same answer for a project and only that one claims it.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from runloom.store.queries import sql

__all__ = ["Turn", "forget_dead", "notify_control", "register", "turn", "unregister"]

Conn = AsyncConnection[DictRow]


@dataclass(frozen=True, slots=True)
class Turn:
    """Whose turn it is to start a project's worker."""

    served: bool  # a live manager's worker already has the project
    pick: str | None  # whose turn it is; None when served, or when no manager is live


async def register(conn: Conn, *, manager_id: str, host: str) -> None:
    """The manager's heartbeat (its first one registers it)."""
    await conn.execute(sql("managers_register"), {"manager_id": manager_id, "host": host})


async def forget_dead(conn: Conn, *, forget_s: float) -> None:
    await conn.execute(sql("managers_forget_dead"), {"forget_s": forget_s})


async def unregister(conn: Conn, *, manager_id: str) -> None:
    await conn.execute(sql("managers_unregister"), {"manager_id": manager_id})


async def turn(conn: Conn, *, project_id: UUID, manager_id: str, stale_s: float) -> Turn:
    """Whose turn it is to start the project's worker; when it is ``manager_id``'s, the
    turn is taken (held for ``stale_s``, so that picks meanwhile count it)."""
    cur = await conn.execute(
        sql("managers_turn"),
        {"project_id": project_id, "manager_id": manager_id, "stale_s": stale_s},
    )
    row = await cur.fetchone()
    assert row is not None
    return Turn(served=bool(row["served"]), pick=row["pick"])


async def notify_control(conn: Conn, *, channel: str, payload: str) -> None:
    await conn.execute(sql("managers_control_notify"), {"channel": channel, "payload": payload})
