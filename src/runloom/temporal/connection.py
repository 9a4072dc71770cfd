"""One shared Temporal client per process, connected on first use."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from runloom.errors import RunloomError


class TemporalUnavailableError(RunloomError):
    """The Temporal frontend cannot be reached."""


class TemporalConnection:
    """Lazily connects once; every caller shares the client (it multiplexes over gRPC)."""

    def __init__(self, *, address: str, namespace: str) -> None:
        self.address = address
        self.namespace = namespace
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                try:
                    self._client = await Client.connect(self.address, namespace=self.namespace)
                except Exception as exc:
                    raise TemporalUnavailableError(
                        f"cannot connect to Temporal at {self.address}: {exc}"
                    ) from exc
            return self._client

    async def check_health(self, *, within_s: float = 2.0) -> bool:
        try:
            async with asyncio.timeout(within_s):
                client = await self.client()
                return bool(await client.service_client.check_health())
        except Exception:
            return False

    async def close(self) -> None:
        # The Python SDK closes its connection when the client is garbage collected;
        # dropping the reference is the documented way to let it go.
        self._client = None
