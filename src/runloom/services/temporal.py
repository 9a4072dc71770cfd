"""The Temporal client: connected one way for every process, shared within each."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from runloom.errors import RunloomError
from runloom.settings import Settings

__all__ = ["TemporalConnection", "TemporalUnavailableError", "connect"]


class TemporalUnavailableError(RunloomError):
    """The Temporal frontend cannot be reached."""


async def connect(settings: Settings) -> Client:
    """A client for the configured frontend and namespace; TemporalUnavailableError naming
    the address when nothing answers there."""
    try:
        return await Client.connect(
            settings.temporal_address, namespace=settings.temporal_namespace
        )
    except Exception as exc:
        raise TemporalUnavailableError(
            f"cannot connect to Temporal at {settings.temporal_address}: {exc}"
        ) from exc


class TemporalConnection:
    """Lazily connects once; every caller shares the client (it multiplexes over gRPC)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                self._client = await connect(self.settings)
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
