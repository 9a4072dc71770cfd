"""Local sign-up and sign-in (Supabase Auth users sign in with Supabase instead)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from runloom.api.deps import AuthRateLimit, PoolDep, SettingsDep
from runloom.api.schemas import Credentials, Session
from runloom.auth import issue_token
from runloom.db.session import service_session
from runloom.models import User
from runloom.settings import Settings
from runloom.store import users

router = APIRouter(prefix="/auth", tags=["auth"])

_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {
        "description": "Too many attempts from this IP (RUNLOOM_RATE_AUTH_PER_MINUTE) or "
        "for this email (RUNLOOM_RATE_AUTH_EMAIL_PER_MINUTE); see Retry-After"
    }
}


def _session(user: User, settings: Settings) -> Session:
    token = issue_token(
        user_id=user.id, email=user.email, secret=settings.runloom_jwt_secret.get_secret_value()
    )
    return Session(access_token=token, user=user)


@router.post("/signup", status_code=status.HTTP_201_CREATED, responses=_LIMITED)
async def signup(
    body: Credentials, _: AuthRateLimit, pool: PoolDep, settings: SettingsDep
) -> Session:
    async with service_session(pool) as conn:
        user = await users.create_local_user(conn, email=body.email, password=body.password)
    return _session(user, settings)


@router.post("/login", responses=_LIMITED)
async def login(
    body: Credentials, _: AuthRateLimit, pool: PoolDep, settings: SettingsDep
) -> Session:
    async with service_session(pool) as conn:
        user = await users.authenticate_local_user(conn, email=body.email, password=body.password)
    return _session(user, settings)
