"""Accounts: local sign-up and sign-in, and the `public.users` row of any signed-in user."""

from __future__ import annotations

import uuid

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import DictRow

from runloom.auth import AuthError, hash_password, hash_password_async, verify_password_async
from runloom.errors import ConflictError
from runloom.models import User
from runloom.store import projects
from runloom.store.queries import sql

# A hash of a random password, verified against when the email is unknown, so that a
# wrong email and a wrong password take the same time.
_DUMMY_HASH = hash_password(uuid.uuid4().hex)


async def create_local_user(conn: AsyncConnection[DictRow], *, email: str, password: str) -> User:
    """Service session: the account, its credentials and its default project, together."""
    password_hash = await hash_password_async(password)
    try:
        async with conn.transaction():
            cur = await conn.execute(
                sql("users_create_local"), {"email": email, "password_hash": password_hash}
            )
            row = await cur.fetchone()
    except psycopg.errors.UniqueViolation as exc:
        raise ConflictError(f"an account with the email {email} already exists; sign in") from exc
    assert row is not None
    user = User.model_validate(row)
    await projects.ensure_default_project(conn, user_id=user.id)
    return user


async def authenticate_local_user(
    conn: AsyncConnection[DictRow], *, email: str, password: str
) -> User:
    row = await (await conn.execute(sql("users_find_local"), {"email": email})).fetchone()
    if row is None:
        await verify_password_async(_DUMMY_HASH, password)
        raise AuthError("wrong email or password")
    if not await verify_password_async(row["password_hash"], password):
        raise AuthError("wrong email or password")
    return User.model_validate(row)


async def ensure_user(
    conn: AsyncConnection[DictRow], *, user_id: uuid.UUID, email: str | None
) -> None:
    """User session: the row and default project a token's user needs (e.g. from Supabase)."""
    await conn.execute(
        sql("users_ensure"), {"user_id": user_id, "email": email or f"{user_id}@users.invalid"}
    )
    await projects.ensure_default_project(conn, user_id=user_id)
