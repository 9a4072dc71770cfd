"""Stream tickets, ``stream_tickets``: single-use keys to one execution's live stream.

Only SHA-256 hashes are stored; the table is the service role's (see the migration).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from runloom.store.queries import sql

__all__ = ["RedeemedTicket", "issue", "redeem"]

Conn = AsyncConnection[DictRow]


@dataclass(frozen=True, slots=True)
class RedeemedTicket:
    user_id: uuid.UUID
    execution_id: uuid.UUID
    principal: dict[str, Any]
    fresh: bool  # not yet expired


async def issue(
    conn: Conn,
    *,
    ticket_hash: str,
    user_id: uuid.UUID,
    execution_id: uuid.UUID,
    principal: dict[str, Any],
    ttl_s: float,
) -> None:
    await conn.execute(
        sql("stream_tickets_insert"),
        {
            "ticket_hash": ticket_hash,
            "user_id": user_id,
            "execution_id": execution_id,
            "principal": json.dumps(principal, default=str),
            "ttl_s": float(ttl_s),
        },
    )


async def redeem(conn: Conn, *, ticket_hash: str) -> RedeemedTicket | None:
    """The ticket, now removed; None when there is none (never issued, or redeemed)."""
    row = await (
        await conn.execute(sql("stream_tickets_redeem"), {"ticket_hash": ticket_hash})
    ).fetchone()
    if row is None:
        return None
    return RedeemedTicket(
        user_id=row["user_id"],
        execution_id=row["execution_id"],
        principal=dict(row["principal"]),
        fresh=bool(row["fresh"]),
    )
