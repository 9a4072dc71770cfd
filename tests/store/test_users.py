"""Local accounts: an unknown email costs the same password check as a wrong password."""

from __future__ import annotations

import uuid

import pytest

from runloom.auth import AuthError
from runloom.db.pool import Pool
from runloom.db.session import service_session
from runloom.store import users


async def test_unknown_email_and_wrong_password_both_verify_once(
    pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    email = f"u{uuid.uuid4().hex[:10]}@example.test"
    async with service_session(pool) as conn:
        await users.create_local_user(conn, email=email, password="right password")
    verified: list[str] = []
    real = users.verify_password_async

    async def counting(password_hash: str, password: str) -> bool:
        verified.append(password_hash)
        return await real(password_hash, password)

    monkeypatch.setattr(users, "verify_password_async", counting)
    async with service_session(pool) as conn:
        with pytest.raises(AuthError, match="wrong email or password"):
            await users.authenticate_local_user(conn, email="nobody@example.test", password="x")
        with pytest.raises(AuthError, match="wrong email or password"):
            await users.authenticate_local_user(conn, email=email, password="wrong password")
        user = await users.authenticate_local_user(conn, email=email, password="right password")
    assert user.email == email
    assert len(verified) == 3 and verified[0] == users._DUMMY_HASH
    assert all(h.startswith("$argon2") for h in verified)
