"""The Temporal client: connected one way for every process, shared within each."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from temporalio.client import Client, Interceptor
from temporalio.runtime import Runtime

from runloom.errors import ConfigurationError, RunloomError
from runloom.services import namespaces
from runloom.settings import Settings
from runloom.temporal_access import (
    TemporalAccess,
    TemporalConnectError,
    TemporalSettingsError,
    connect_temporal,
    read_pem,
)
from runloom.tracing import client_interceptors

__all__ = [
    "TemporalConnection",
    "TemporalUnavailableError",
    "connect",
    "connect_access",
    "temporal_access",
]


class TemporalUnavailableError(RunloomError):
    """The Temporal frontend cannot be reached (or refuses our TLS or credentials)."""


def _pem(path: Path | None, setting: str) -> str | None:
    if path is None:
        return None
    try:
        return read_pem(path, setting=setting)
    except TemporalSettingsError as exc:
        raise ConfigurationError(str(exc)) from exc


def temporal_access(settings: Settings) -> TemporalAccess:
    """How these settings reach Temporal, with the TLS files read now (at start), so that
    a missing file stops the process with its setting named; ConfigurationError if so."""
    api_key = settings.temporal_api_key
    return TemporalAccess(
        address=settings.temporal_address,
        namespace=settings.temporal_namespace,
        tls=settings.temporal_tls_enabled,
        server_ca_pem=_pem(settings.temporal_tls_ca, "TEMPORAL_TLS_CA"),
        server_name=settings.temporal_tls_server_name,
        client_cert_pem=_pem(settings.temporal_tls_cert, "TEMPORAL_TLS_CERT"),
        client_key_pem=_pem(settings.temporal_tls_key, "TEMPORAL_TLS_KEY"),
        api_key=api_key.get_secret_value() if api_key is not None else None,
    )


async def connect_access(
    access: TemporalAccess,
    *,
    namespace: str | None = None,
    interceptors: Sequence[Interceptor] = (),
    runtime: Runtime | None = None,
) -> Client:
    """connect_temporal, failing with TemporalUnavailableError (what callers catch)."""
    try:
        return await connect_temporal(
            access,
            namespace=namespace,
            # Starts carry the caller's trace to the workers (nothing when tracing is off).
            interceptors=[*client_interceptors(), *interceptors],
            runtime=runtime,
        )
    except TemporalConnectError as exc:
        raise TemporalUnavailableError(str(exc)) from exc


async def connect(
    settings: Settings,
    *,
    namespace: str | None = None,
    interceptors: Sequence[Interceptor] = (),
    runtime: Runtime | None = None,
) -> Client:
    """A client for the configured frontend and namespace; TemporalUnavailableError naming
    the address, and the setting to fix, when it cannot connect."""
    return await connect_access(
        temporal_access(settings), namespace=namespace, interceptors=interceptors, runtime=runtime
    )


class TemporalConnection:
    """Lazily connects once; every caller shares the client (it multiplexes over gRPC)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Read now: a TLS file that is missing stops the API at start, not at first use.
        self.access = temporal_access(settings)
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                self._client = await connect_access(self.access)
            return self._client

    async def client_in(self, namespace: str | None) -> Client:
        """The client working in ``namespace`` (None: TEMPORAL_NAMESPACE), over the same
        connection."""
        return namespaces.client_for(await self.client(), namespace)

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
