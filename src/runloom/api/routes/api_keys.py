"""API keys for programs and CI: create (the key is shown once), list, revoke.

Only a signed-in person manages keys; a key acting on these routes is refused (403).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response, status

from runloom.api.deps import PoolDep, SessionUser
from runloom.api.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyList
from runloom.db.session import user_session
from runloom.errors import InvalidRequestError
from runloom.store import api_keys

router = APIRouter(prefix="/api-keys", tags=["api-keys"])

_KEY_CALLER: dict[int | str, dict[str, Any]] = {
    403: {"description": "The caller is an API key: keys cannot manage keys"}
}


@router.post("", status_code=status.HTTP_201_CREATED, responses=_KEY_CALLER)
async def create_api_key(body: ApiKeyCreate, user: SessionUser, pool: PoolDep) -> ApiKeyCreated:
    """A new key, acting as you (limited to `project_id` when given); `key` is shown once."""
    expires_at = body.expires_at
    if expires_at is not None and expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    if expires_at is not None and expires_at <= datetime.now(UTC):
        raise InvalidRequestError("expires_at is in the past; give a future time or none")
    async with user_session(pool, user.claims) as conn:
        created, key = await api_keys.create_key(
            conn,
            user_id=user.user_id,
            name=body.name,
            project_id=body.project_id,
            expires_at=expires_at,
        )
    return ApiKeyCreated(**created.model_dump(), key=key)


@router.get("", responses=_KEY_CALLER)
async def list_api_keys(user: SessionUser, pool: PoolDep) -> ApiKeyList:
    """Your keys that are not revoked: never the keys themselves."""
    async with user_session(pool, user.claims) as conn:
        return ApiKeyList(api_keys=await api_keys.list_keys(conn))


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_KEY_CALLER)
async def revoke_api_key(key_id: uuid.UUID, user: SessionUser, pool: PoolDep) -> Response:
    """Revoke a key at once: its next request answers 401."""
    async with user_session(pool, user.claims) as conn:
        await api_keys.revoke_key(conn, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
