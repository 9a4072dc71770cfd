"""Tickets for live streams: EventSource cannot send an Authorization header, and a login
token in a URL is kept by proxies and access logs. A signed-in caller asks for a ticket
(``POST /api/executions/{id}/stream-ticket``) and opens the stream with ``?ticket=``.

A ticket is 32 random bytes, valid :data:`TICKET_TTL_S` seconds, bound to its user and
one execution, and opens one stream. It is kept (as its SHA-256) in Postgres, so any API
process can redeem what another issued.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from runloom.auth import AuthError, Principal, token_digest
from runloom.db.pool import Pool
from runloom.db.session import service_session, user_session
from runloom.store import executions, stream_tickets

__all__ = ["TICKET_TTL_S", "issue", "redeem"]

TICKET_TTL_S = 30


def _document(user: Principal) -> dict[str, Any]:
    return {
        "email": user.email,
        "claims": user.claims,
        "api_key": user.api_key,
        "project_id": str(user.project_id) if user.project_id else None,
    }


async def issue(pool: Pool, user: Principal, execution_id: uuid.UUID) -> str:
    """A new ticket for the user's execution (NotFoundError when it is not theirs)."""
    async with user_session(pool, user.claims) as conn:
        await executions.get_execution(conn, execution_id)
    ticket = secrets.token_urlsafe(32)
    async with service_session(pool) as conn:
        await stream_tickets.issue(
            conn,
            ticket_hash=token_digest(ticket),
            user_id=user.user_id,
            execution_id=execution_id,
            principal=_document(user),
            ttl_s=TICKET_TTL_S,
        )
    return ticket


async def redeem(pool: Pool, ticket: str, execution_id: uuid.UUID) -> Principal:
    """Who the ticket was issued to; AuthError when it is unknown, used, expired or for
    another execution. Redeeming spends it whatever the outcome."""
    async with service_session(pool) as conn:
        found = await stream_tickets.redeem(conn, ticket_hash=token_digest(ticket))
    if found is None:
        raise AuthError("this stream ticket is unknown or already used; ask for a new one")
    if not found.fresh:
        raise AuthError("this stream ticket has expired; ask for a new one")
    if found.execution_id != execution_id:
        raise AuthError("this stream ticket is for another execution")
    document = found.principal
    project_id = document.get("project_id")
    return Principal(
        user_id=found.user_id,
        email=document.get("email"),
        claims=dict(document["claims"]),
        api_key=bool(document.get("api_key")),
        project_id=uuid.UUID(project_id) if project_id else None,
    )
