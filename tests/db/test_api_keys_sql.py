"""API keys in Postgres: hashes unreadable by users, the lookup for the service role
only, revoked and expired keys told apart, and `last_used_at` written at most once a
minute."""

from __future__ import annotations

import psycopg
import pytest

from runloom.db.pool import Pool
from runloom.db.session import service_session, user_session
from runloom.store import api_keys
from tests.conftest import MakeUser


async def test_owners_cannot_read_hashes_nor_call_the_lookup(
    pool: Pool, make_user: MakeUser
) -> None:
    claims = await make_user()
    async with user_session(pool, claims) as conn:
        created, key = await api_keys.create_key(
            conn, user_id=claims["sub"], name="k", project_id=None, expires_at=None
        )
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        async with user_session(pool, claims) as conn:
            await conn.execute("SELECT key_hash FROM public.api_keys")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        async with user_session(pool, claims) as conn:
            await conn.execute("SELECT * FROM public.api_key_principal(%s)", ("x",))
    async with service_session(pool) as conn:
        owner = await api_keys.key_owner(conn, key)
    assert owner is not None and owner.state == "live" and str(owner.user_id) == claims["sub"]
    assert created.last_used_at is None


async def test_last_use_is_written_at_most_once_a_minute(pool: Pool, make_user: MakeUser) -> None:
    claims = await make_user()
    async with user_session(pool, claims) as conn:
        created, key = await api_keys.create_key(
            conn, user_id=claims["sub"], name="k", project_id=None, expires_at=None
        )
    seen = []
    for _ in range(2):
        async with service_session(pool) as conn:
            await api_keys.key_owner(conn, key)
            cur = await conn.execute(
                "SELECT last_used_at FROM public.api_keys WHERE id = %s", (created.id,)
            )
            row = await cur.fetchone()
            assert row is not None
            seen.append(row["last_used_at"])
    assert seen[0] is not None and seen[0] == seen[1]


async def test_revoked_and_unknown_keys(pool: Pool, make_user: MakeUser) -> None:
    claims = await make_user()
    async with user_session(pool, claims) as conn:
        created, key = await api_keys.create_key(
            conn, user_id=claims["sub"], name="k", project_id=None, expires_at=None
        )
        await api_keys.revoke_key(conn, created.id)
    async with service_session(pool) as conn:
        owner = await api_keys.key_owner(conn, key)
        assert owner is not None and owner.state == "revoked"
        assert await api_keys.key_owner(conn, api_keys.new_key()) is None
