"""Transactions that run as a Supabase role, so Row Level Security decides what is seen."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from runloom.db.pool import Pool

Claims = Mapping[str, Any]

# set_config(..., true) is SET LOCAL: both settings end with the transaction, so a pooled
# connection never carries one caller's identity into the next caller's request.
_BECOME = "SELECT set_config('request.jwt.claims', %s, true), set_config('role', %s, true)"


@asynccontextmanager
async def user_session(
    pool: Pool, claims: Claims, *, pipeline: bool = False
) -> AsyncIterator[AsyncConnection[DictRow]]:
    """A transaction as role `authenticated` with the caller's JWT claims, as Supabase does.

    With ``pipeline``, statements go out together until a result is read: BEGIN, the
    claims and the caller's first query cost one round trip instead of three (hot paths
    such as starting a run)."""
    if not claims.get("sub"):
        raise ValueError("claims must carry the user's id in 'sub'")
    async with pool.connection() as conn, contextlib.AsyncExitStack() as stack:
        if pipeline:
            await stack.enter_async_context(conn.pipeline())
        await stack.enter_async_context(conn.transaction())
        await conn.execute(_BECOME, (json.dumps(dict(claims)), "authenticated"))
        yield conn


@asynccontextmanager
async def service_session(
    pool: Pool, *, pipeline: bool = False
) -> AsyncIterator[AsyncConnection[DictRow]]:
    """A transaction as `service_role`, which bypasses RLS; for system components only.
    ``pipeline`` as for `user_session`."""
    async with pool.connection() as conn, contextlib.AsyncExitStack() as stack:
        if pipeline:
            await stack.enter_async_context(conn.pipeline())
        await stack.enter_async_context(conn.transaction())
        await conn.execute(_BECOME, (json.dumps({"role": "service_role"}), "service_role"))
        yield conn
