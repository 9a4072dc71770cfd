"""Passwords and tokens: local accounts and Supabase Auth share one verification path.

Tokens carry Supabase's claim shape (`sub`, `email`, `role`, `aud`), so the same claims
feed `request.jwt.claims` and Row Level Security whichever issuer signed them.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from runloom.errors import RunloomError

AUDIENCE = "authenticated"
ISSUER = "runloom"
TOKEN_TTL_S = 7 * 24 * 3600

# Argon2id with OWASP's recommended parameters (19 MiB, 2 passes, 1 lane): about 30 ms of
# CPU per hash here, where argon2-cffi's defaults (64 MiB, 3 passes) cost 120 ms and made
# a sign-in slower than a person notices. Hashes record their parameters, so older ones
# still verify. Off the event loop, on two threads: sign-ins queue behind each other
# instead of freezing every other request, and a burst of them cannot take more than two
# cores (argon2 releases the GIL).
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_HASHING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="runloom-argon2")


class AuthError(RunloomError):
    """Credentials or a token were refused."""


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    email: str | None
    claims: dict[str, Any]
    # Set when the caller signed in with an API key; `project_id` when the key is limited
    # to one project (also in `claims` as `runloom_project_id`, which RLS honours).
    api_key: bool = False
    project_id: uuid.UUID | None = None


def token_digest(token: str) -> str:
    """How a high-entropy bearer secret (an API key, a webhook token, a stream ticket) is
    stored and looked up: its SHA-256. Argon2 is for passwords; it would slow every call."""
    return hashlib.sha256(token.encode()).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def hash_password_async(password: str) -> str:
    """:func:`hash_password` on the hashing threads."""
    return await asyncio.get_running_loop().run_in_executor(_HASHING, hash_password, password)


async def verify_password_async(password_hash: str, password: str) -> bool:
    """:func:`verify_password` on the hashing threads."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_HASHING, verify_password, password_hash, password)


def issue_token(*, user_id: uuid.UUID, email: str, secret: str, ttl_s: int = TOKEN_TTL_S) -> str:
    now = int(time.time())
    claims = {
        "sub": str(user_id),
        "email": email,
        "role": "authenticated",
        "aud": AUDIENCE,
        "iss": ISSUER,
        "iat": now,
        "exp": now + ttl_s,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def key_claims(
    *, user_id: uuid.UUID, email: str | None, project_id: uuid.UUID | None
) -> dict[str, Any]:
    """The claims an API key's requests run with: its owner's, and its project if any."""
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "role": "authenticated",
        "aud": AUDIENCE,
        "iss": ISSUER,
        "runloom_api_key": True,
    }
    if email:
        claims["email"] = email
    if project_id is not None:
        claims["runloom_project_id"] = str(project_id)
    return claims


def verify_token(token: str, *, secrets: Sequence[str]) -> Principal:
    """Accept an HS256 token signed by any of `secrets` (runloom's, then Supabase's)."""
    last: Exception | None = None
    for secret in secrets:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                secret,
                algorithms=["HS256"],
                audience=AUDIENCE,
                options={"require": ["sub", "exp"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError("the access token has expired; sign in again") from exc
        except jwt.InvalidSignatureError as exc:
            last = exc
            continue
        except jwt.PyJWTError as exc:
            raise AuthError(f"the access token is invalid: {exc}") from exc
        if claims.get("role") != "authenticated":
            raise AuthError("the access token is not a signed-in user's token")
        try:
            user_id = uuid.UUID(str(claims["sub"]))
        except ValueError as exc:
            raise AuthError("the access token's subject is not a user id") from exc
        email = claims.get("email")
        return Principal(user_id=user_id, email=str(email) if email else None, claims=claims)
    raise AuthError("the access token's signature does not verify") from last
