from __future__ import annotations

import time
import uuid

import httpx
import jwt

from tests.api.conftest import SignUp
from tests.live import TEST_JWT_SECRET


async def test_signup_then_login_gives_a_working_token(anonymous: httpx.AsyncClient) -> None:
    email = f"u{uuid.uuid4().hex[:8]}@example.test"
    signup = await anonymous.post(
        "/api/auth/signup", json={"email": email, "password": "a long password"}
    )
    assert signup.status_code == 201
    assert signup.json()["token_type"] == "bearer"
    login = await anonymous.post(
        "/api/auth/login", json={"email": email.upper(), "password": "a long password"}
    )
    assert login.status_code == 200
    token = login.json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == signup.json()["user"]["id"]
    assert claims["role"] == "authenticated" and claims["aud"] == "authenticated"
    projects = await anonymous.get("/api/projects", headers={"Authorization": f"Bearer {token}"})
    assert projects.status_code == 200
    # Every user gets a default project.
    assert [p["name"] for p in projects.json()["projects"]] == ["Default"]


async def test_duplicate_signup_and_wrong_password_say_what_to_do(
    anonymous: httpx.AsyncClient,
) -> None:
    email = f"u{uuid.uuid4().hex[:8]}@example.test"
    body = {"email": email, "password": "a long password"}
    assert (await anonymous.post("/api/auth/signup", json=body)).status_code == 201
    again = await anonymous.post("/api/auth/signup", json=body)
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    wrong = await anonymous.post("/api/auth/login", json={**body, "password": "not the one!"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "wrong email or password"
    short = await anonymous.post("/api/auth/signup", json={"email": email, "password": "x"})
    assert short.status_code == 422 and "password" in short.json()["detail"]
    bad_email = await anonymous.post(
        "/api/auth/signup", json={"email": "nope", "password": "x" * 9}
    )
    assert bad_email.status_code == 422 and "email" in bad_email.json()["detail"]


async def test_expired_tampered_and_unsigned_tokens_are_refused(
    anonymous: httpx.AsyncClient, sign_up: SignUp
) -> None:
    api = await sign_up()
    now = int(time.time())
    base = {"sub": api.user_id, "role": "authenticated", "aud": "authenticated"}
    expired = jwt.encode({**base, "iat": now - 100, "exp": now - 10}, TEST_JWT_SECRET)
    forged = jwt.encode({**base, "exp": now + 100}, "x" * 40)
    unsigned = jwt.encode({**base, "exp": now + 100}, None, algorithm="none")
    good = api.client.headers["Authorization"].split()[1]
    tampered = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    for token, words in [
        (expired, "expired"),
        (forged, "signature"),
        (unsigned, "invalid"),
        (tampered, "signature"),
    ]:
        response = await anonymous.get(
            "/api/projects", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401, token
        assert words in response.json()["detail"]
    missing = await anonymous.get("/api/projects")
    assert missing.status_code == 401 and "sign in" in missing.json()["detail"]


async def test_a_supabase_style_token_creates_the_user_row_on_first_call(
    anonymous: httpx.AsyncClient,
) -> None:
    user_id = str(uuid.uuid4())
    now = int(time.time())
    token = jwt.encode(
        {
            "sub": user_id,
            "role": "authenticated",
            "aud": "authenticated",
            "email": "external@example.test",
            "exp": now + 600,
        },
        TEST_JWT_SECRET,
    )
    response = await anonymous.get("/api/projects", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    projects = response.json()["projects"]
    assert len(projects) == 1 and projects[0]["created_by"] == user_id
