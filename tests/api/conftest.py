"""An HTTP client per test user, talking to the live stack."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest


class Api:
    """A signed-in user's view of the API."""

    def __init__(self, client: httpx.AsyncClient, *, email: str, user_id: str) -> None:
        self.client = client
        self.email = email
        self.user_id = user_id

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.get(path, **kw)

    async def post(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.post(path, **kw)

    async def put(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.put(path, **kw)

    async def patch(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.patch(path, **kw)

    async def delete(self, path: str, **kw: Any) -> httpx.Response:
        return await self.client.delete(path, **kw)

    async def ok(self, method: str, path: str, expected: int = 200, **kw: Any) -> Any:
        response = await self.client.request(method, path, **kw)
        assert response.status_code == expected, (response.status_code, response.text)
        return response.json() if response.content else None


SignUp = Callable[[], Awaitable[Api]]


@pytest.fixture
async def anonymous(live_server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as client:
        yield client


@pytest.fixture
async def sign_up(live_server: str) -> AsyncIterator[SignUp]:
    clients: list[httpx.AsyncClient] = []

    async def make() -> Api:
        email = f"u{uuid.uuid4().hex[:10]}@example.test"
        client = httpx.AsyncClient(base_url=live_server, timeout=60)
        clients.append(client)
        response = await client.post(
            "/api/auth/signup", json={"email": email, "password": "correct horse battery"}
        )
        assert response.status_code == 201, response.text
        session = response.json()
        client.headers["Authorization"] = f"Bearer {session['access_token']}"
        return Api(client, email=email, user_id=session["user"]["id"])

    yield make
    for client in clients:
        await client.aclose()
