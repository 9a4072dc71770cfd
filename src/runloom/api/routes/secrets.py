"""Project secrets: set or replace, list (names and dates only), delete.

Values go in and never come out: the only reader is the manager, which hands a project's
worker its secrets (runloom.store.secrets.read_values).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from runloom.api.deps import CurrentUser, PoolDep, VaultDep
from runloom.api.schemas_secrets import SecretEnvelope, SecretList, SecretName, SecretPut
from runloom.db.session import user_session
from runloom.store import secrets

router = APIRouter(prefix="/projects", tags=["secrets"])


@router.put("/{project_id}/secrets/{name}")
async def put_secret(
    project_id: uuid.UUID,
    name: SecretName,
    body: SecretPut,
    user: CurrentUser,
    pool: PoolDep,
    vault: VaultDep,
) -> SecretEnvelope:
    """Create or replace a secret; templates reach it as `{{ secrets.NAME }}`."""
    async with user_session(pool, user.claims) as conn:
        secret = await secrets.put_secret(
            conn,
            project_id=project_id,
            name=name,
            value=body.value.get_secret_value(),
            vault=vault,
        )
    return SecretEnvelope(secret=secret)


@router.get("/{project_id}/secrets")
async def list_secrets(project_id: uuid.UUID, user: CurrentUser, pool: PoolDep) -> SecretList:
    """The project's secrets by name, with when each was set: never their values."""
    async with user_session(pool, user.claims) as conn:
        return SecretList(secrets=await secrets.list_secrets(conn, project_id=project_id))


@router.delete("/{project_id}/secrets/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_secret(
    project_id: uuid.UUID, name: SecretName, user: CurrentUser, pool: PoolDep
) -> Response:
    """Remove a secret; builds that reference it fail until it is set again."""
    async with user_session(pool, user.claims) as conn:
        await secrets.delete_secret(conn, project_id=project_id, name=name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
