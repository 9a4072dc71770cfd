"""FastAPI dependencies, as `Annotated` aliases routes declare in their signatures."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from runloom.api import stream_tickets
from runloom.api.live import LiveHub
from runloom.api.ratelimit import RateLimits, client_ip, get_rate_limits
from runloom.api.schemas import Credentials
from runloom.api.state import AppState
from runloom.auth import AuthError, Principal, key_claims, verify_token
from runloom.db.pool import Pool
from runloom.db.session import service_session, user_session
from runloom.errors import ForbiddenError
from runloom.services import namespaces
from runloom.services.schedules import Scheduler
from runloom.services.temporal import TemporalConnection
from runloom.settings import Settings
from runloom.store import api_keys, users
from runloom.store.executions import Origin
from runloom.vault import Vault

_bearer = HTTPBearer(auto_error=False, description="The access_token from sign-in")


# Dependencies are coroutines, even trivial ones: FastAPI runs a plain function in its
# thread pool, a thread hop per dependency per request on the hot path.
async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.runloom
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def get_pool(state: StateDep) -> Pool:
    return state.pool


async def get_temporal(state: StateDep) -> TemporalConnection:
    return state.temporal


async def get_app_settings(state: StateDep) -> Settings:
    return state.settings


async def get_live(state: StateDep) -> LiveHub:
    return state.live


async def get_vault(state: StateDep) -> Vault:
    return state.vault


PoolDep = Annotated[Pool, Depends(get_pool)]
TemporalDep = Annotated[TemporalConnection, Depends(get_temporal)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
LiveDep = Annotated[LiveHub, Depends(get_live)]
VaultDep = Annotated[Vault, Depends(get_vault)]


async def get_temporal_client(temporal: TemporalDep) -> Client:
    return await temporal.client()


TemporalClientDep = Annotated[Client, Depends(get_temporal_client)]


async def get_scheduler(state: StateDep, client: TemporalClientDep) -> Scheduler:
    return Scheduler(client, platform_queue=await state.platform_queue.name())


SchedulerDep = Annotated[Scheduler, Depends(get_scheduler)]


async def _key_principal(state: AppState, key: str) -> Principal:
    """An API key acts as its owner (RLS applies as them), limited to its project if any.
    A malformed key is refused without a lookup; a well-formed one costs one call."""
    if not api_keys.well_formed(key):
        raise AuthError("the API key is malformed; copy it again from where it was created")
    async with service_session(state.pool) as conn:
        owner = await api_keys.key_owner(conn, key)
    if owner is None:
        raise AuthError("the API key is unknown; create one with POST /api/api-keys")
    if owner.state == "revoked":
        raise AuthError("the API key was revoked; create a new one")
    if owner.state == "expired":
        raise AuthError("the API key has expired; create a new one")
    claims = key_claims(user_id=owner.user_id, email=owner.email, project_id=owner.project_id)
    return Principal(
        user_id=owner.user_id,
        email=owner.email,
        claims=claims,
        api_key=True,
        project_id=owner.project_id,
    )


async def _principal(state: AppState, token: str | None) -> Principal:
    if not token:
        raise AuthError("sign in first: send the access token as 'Authorization: Bearer <token>'")
    if token.startswith(api_keys.KEY_PREFIX):
        return await _key_principal(state, token)
    principal = verify_token(token, secrets=state.token_secrets)
    # The users row and default project exist after the first call of any token's user;
    # remembering who is known keeps that off every later request's path.
    if principal.user_id not in state.known_users:
        async with user_session(state.pool, principal.claims) as conn:
            await users.ensure_user(conn, user_id=principal.user_id, email=principal.email)
        await namespaces.prepare_user(
            state.pool, state.temporal.client, state.settings, user_id=principal.user_id
        )
        state.known_users.add(principal.user_id)
    return principal


async def get_current_user(
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    return await _principal(state, credentials.credentials if credentials else None)


async def get_stream_user(
    request: Request,
    execution_id: uuid.UUID,
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ticket: Annotated[
        str | None,
        Query(description="From POST /api/executions/{id}/stream-ticket, for EventSource"),
    ] = None,
) -> Principal:
    """The Authorization header, or a stream ticket; never the login token in the URL."""
    if "access_token" in request.query_params:
        raise AuthError(
            "the login token is not accepted in a URL; open the stream with a ticket from "
            f"POST /api/executions/{execution_id}/stream-ticket, or send an Authorization header"
        )
    if credentials is None and ticket is not None:
        return await stream_tickets.redeem(state.pool, ticket, execution_id)
    return await _principal(state, credentials.credentials if credentials else None)


CurrentUser = Annotated[Principal, Depends(get_current_user)]


async def get_session_user(user: CurrentUser) -> Principal:
    """A signed-in person, not an API key: for managing keys."""
    if user.api_key:
        raise ForbiddenError("API keys cannot manage API keys; sign in to do that")
    return user


async def get_unscoped_user(user: CurrentUser) -> Principal:
    """Any caller but a key limited to one project: for what spans projects."""
    if user.project_id is not None:
        raise ForbiddenError(f"this API key is limited to project {user.project_id}")
    return user


def origin_of(user: Principal) -> Origin:
    """A start by a person, or by a program with an API key."""
    return Origin(triggered_by="api" if user.api_key else "manual")


SessionUser = Annotated[Principal, Depends(get_session_user)]
UnscopedUser = Annotated[Principal, Depends(get_unscoped_user)]
StreamUser = Annotated[Principal, Depends(get_stream_user)]


RateLimitsDep = Annotated[RateLimits, Depends(get_rate_limits)]


async def rate_limit_auth(request: Request, body: Credentials, limits: RateLimitsDep) -> None:
    """Sign-up and sign-in, per client IP and per email. It reads the route's own ``body``
    (FastAPI parses it once), so a body that does not validate costs no token."""
    limits.check_auth(ip=client_ip(request), email=body.email)


async def rate_limit_starts(user: CurrentUser, limits: RateLimitsDep) -> None:
    """Run starts, per user."""
    limits.check_start(user_id=str(user.user_id))


# The route's body parameter must be named `body` and be Credentials, as here.
AuthRateLimit = Annotated[None, Depends(rate_limit_auth)]
StartRateLimit = Annotated[None, Depends(rate_limit_starts)]

# What a start may answer besides success (the limits are documented in README.md).
START_LIMITS: dict[int | str, dict[str, Any]] = {
    403: {
        "description": "A quota is full: open runs (RUNLOOM_QUOTA_OPEN_RUNS) or, when the "
        "project needs a worker, running workers (RUNLOOM_QUOTA_WORKERS); the body names "
        "`quota`, `setting` and `limit`"
    },
    429: {
        "description": "Too many starts by this user (RUNLOOM_RATE_STARTS_PER_MINUTE, "
        "RUNLOOM_RATE_STARTS_BURST); see Retry-After"
    },
}
