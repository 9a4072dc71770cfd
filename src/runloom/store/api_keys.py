"""API keys: `rl_` + 32 random url-safe bytes, shown once, stored as their SHA-256.

Keys are high-entropy, so a fast hash is right (argon2 would slow every API call).
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from runloom.auth import token_digest
from runloom.errors import NotFoundError
from runloom.models import ApiKey
from runloom.store.queries import sql

KEY_PREFIX = "rl_"
_KEY_BYTES = 32
_DISPLAY_CHARS = 8
# token_urlsafe(32): 43 characters of the url-safe base64 alphabet, no padding.
_KEY_SHAPE = re.compile(r"^rl_[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True, slots=True)
class KeyOwner:
    """What a key stands for: `state` is 'live', 'revoked' or 'expired'."""

    user_id: uuid.UUID
    email: str | None
    project_id: uuid.UUID | None
    state: str


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(_KEY_BYTES)


def well_formed(key: str) -> bool:
    """Whether `key` has the shape of a key runloom issues (checked before any lookup)."""
    return _KEY_SHAPE.match(key) is not None


async def create_key(
    conn: AsyncConnection[DictRow],
    *,
    user_id: uuid.UUID,
    name: str,
    project_id: uuid.UUID | None,
    expires_at: datetime | None,
) -> tuple[ApiKey, str]:
    """User session: a new key of the caller, and the key itself (shown once)."""
    if project_id is not None:
        cur = await conn.execute(sql("api_keys_project_visible"), {"id": project_id})
        if await cur.fetchone() is None:
            raise NotFoundError(f"project {project_id} not found")
    key = new_key()
    cur = await conn.execute(
        sql("api_keys_insert"),
        {
            "user_id": user_id,
            "project_id": project_id,
            "name": name,
            "prefix": key[len(KEY_PREFIX) : len(KEY_PREFIX) + _DISPLAY_CHARS],
            "key_hash": token_digest(key),
            "expires_at": expires_at,
        },
    )
    row = await cur.fetchone()
    assert row is not None
    return ApiKey.model_validate(row), key


async def list_keys(conn: AsyncConnection[DictRow]) -> list[ApiKey]:
    """User session: the caller's keys that are not revoked."""
    rows = await (await conn.execute(sql("api_keys_list"))).fetchall()
    return [ApiKey.model_validate(row) for row in rows]


async def revoke_key(conn: AsyncConnection[DictRow], key_id: uuid.UUID) -> None:
    """User session: revoke one of the caller's keys, at once."""
    cur = await conn.execute(sql("api_keys_revoke"), {"id": key_id})
    if await cur.fetchone() is None:
        raise NotFoundError(f"API key {key_id} not found")


async def key_owner(conn: AsyncConnection[DictRow], key: str) -> KeyOwner | None:
    """Service session: who a key stands for (touching its last use), None when unknown."""
    cur = await conn.execute(sql("api_keys_principal"), {"key_hash": token_digest(key)})
    row = await cur.fetchone()
    if row is None:
        return None
    return KeyOwner(
        user_id=row["user_id"],
        email=row["email"],
        project_id=row["project_id"],
        state=row["state"],
    )
