"""Local sign-up and sign-in (Supabase Auth users sign in with Supabase instead)."""

from __future__ import annotations

from fastapi import APIRouter, status

from runloom.api.deps import PoolDep, SettingsDep
from runloom.api.schemas import Credentials, Session
from runloom.auth import issue_token
from runloom.db.session import service_session
from runloom.models import User
from runloom.settings import Settings
from runloom.store import users

router = APIRouter(prefix="/auth", tags=["auth"])


def _session(user: User, settings: Settings) -> Session:
    token = issue_token(
        user_id=user.id, email=user.email, secret=settings.runloom_jwt_secret.get_secret_value()
    )
    return Session(access_token=token, user=user)


@router.post("/signup", status_code=status.HTTP_201_CREATED)
async def signup(body: Credentials, pool: PoolDep, settings: SettingsDep) -> Session:
    async with service_session(pool) as conn:
        user = await users.create_local_user(conn, email=body.email, password=body.password)
    return _session(user, settings)


@router.post("/login")
async def login(body: Credentials, pool: PoolDep, settings: SettingsDep) -> Session:
    async with service_session(pool) as conn:
        user = await users.authenticate_local_user(conn, email=body.email, password=body.password)
    return _session(user, settings)
