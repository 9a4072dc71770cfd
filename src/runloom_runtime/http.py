"""The activity behind `http_request` nodes (and for_each steps of that type).

The workflow renders the request's templates (deterministically) and hands the activity a
plain request; the activity only does I/O. A non-2xx answer raises a retryable
``ApplicationError`` so the node's retry policy applies, unless the node turned
``fail_on_status`` off.

Every connection goes through :class:`GuardedBackend`, which resolves the host once,
checks every address with :mod:`runloom_runtime.egress` and connects to a checked address
(never resolving again, so DNS rebinding cannot swap in a private one). httpx still sees
the URL's host name, so the Host header, TLS SNI and certificate checks stay on the name.
Redirects are followed by httpx; each hop opens its connection through the same backend
and its scheme is checked before it is sent. Responses are capped at
``policy.max_body_bytes`` while they stream, redirect bodies included.
"""

from __future__ import annotations

import asyncio
import functools
import json
import ssl
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from runloom_runtime import egress

__all__ = ["GuardedBackend", "GuardedTransport", "ResponseTooLarge", "perform"]

_MAX_REDIRECTS = 10


class ResponseTooLarge(Exception):
    """A response body is larger than the policy allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the response body is larger than {_size(limit)}; "
            f"raise {egress.MAX_BODY_SETTING} to allow larger responses"
        )
        self.limit = limit


def _size(limit: int) -> str:
    mib = 1024 * 1024
    return f"{limit // mib} MiB" if limit % mib == 0 else f"{limit} bytes"


# --- the guard --------------------------------------------------------------------------


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to addresses the policy allows.

    ``resolver`` and ``inner`` (which opens the socket to an IP literal) are seams for
    tests; by default they are the system resolver and httpcore's own backend.
    """

    def __init__(
        self,
        *,
        policy: egress.EgressPolicy,
        resolver: egress.Resolver = egress.system_resolver,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._policy = policy
        self._resolver = resolver
        self._inner = httpcore.AnyIOBackend() if inner is None else inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await egress.resolve_checked(
                    host, port, policy=self._policy, resolver=self._resolver
                )
        except TimeoutError as err:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from err
        except OSError as err:
            raise httpcore.ConnectError(str(err)) from err
        failure: Exception | None = None
        for address in addresses:  # every one was checked; try them in the resolver's order
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as err:
                failure = err
        assert failure is not None  # resolve_checked never returns an empty tuple
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise egress.EgressDenied("http node may not connect to a unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _CappedStream(httpx.AsyncByteStream):
    """Stops a body once it passes ``limit`` bytes: httpx reads redirect bodies whole."""

    def __init__(self, stream: httpx.AsyncByteStream, *, limit: int) -> None:
        self._stream = stream
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self._stream:
            seen += len(chunk)
            if seen > self._limit:
                raise ResponseTooLarge(self._limit)
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle costs milliseconds; one context serves every request. It still
    # honours SSL_CERT_FILE / SSL_CERT_DIR (a private CA only adds trust, not reach).
    return httpx.create_ssl_context(trust_env=True)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, with its connection pool opened through :class:`GuardedBackend`.

    httpx takes no network backend, so the pool it builds is replaced by one that uses
    ours; if a future httpx no longer keeps it in ``_pool``, this fails instead of sending
    unguarded requests. No proxy: one from the environment would connect for us, unchecked.
    """

    def __init__(
        self,
        *,
        policy: egress.EgressPolicy,
        resolver: egress.Resolver = egress.system_resolver,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        super().__init__(verify=_ssl_context(), trust_env=False)
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError(
                f"httpx {httpx.__version__} changed its transport; refusing to send "
                "http node requests without the egress guard"
            )
        backend = GuardedBackend(policy=policy, resolver=resolver, inner=network_backend)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=_ssl_context(), network_backend=backend
        )
        self._limit = policy.max_body_bytes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._limit:
            await response.aclose()
            raise ResponseTooLarge(self._limit)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_CappedStream(response.stream, limit=self._limit),
            extensions=response.extensions,
        )


# --- the activity -----------------------------------------------------------------------


def _shown(url: httpx.URL) -> str:
    """The URL without user info, query or fragment, which may hold secrets."""
    path = url.raw_path.partition(b"?")[0].decode("ascii", errors="replace")
    return f"{url.scheme}://{url.netloc.decode('ascii', errors='replace')}{path}"


@dataclass(kw_only=True)
class _HopLog:
    """``GET https://host/path -> 200 (12 ms)`` for every hop, redirects included."""

    lines: list[str] = field(default_factory=list)
    _pending: tuple[httpx.Request, float] | None = None

    async def on_request(self, request: httpx.Request) -> None:
        egress.check_scheme(request.url.scheme)
        self._pending = (request, time.perf_counter())

    async def on_response(self, response: httpx.Response) -> None:
        request, started = self._pending or (response.request, time.perf_counter())
        self._pending = None
        elapsed = round((time.perf_counter() - started) * 1000)
        self.lines.append(
            f"{request.method} {_shown(request.url)} -> {response.status_code} ({elapsed} ms)"
        )

    def fail(self, outcome: str) -> None:
        if self._pending is not None:
            request, _ = self._pending
            self.lines.append(f"{request.method} {_shown(request.url)} -> {outcome}")
            self._pending = None


@dataclass(frozen=True, kw_only=True)
class _Call:
    method: str
    url: httpx.URL
    headers: dict[str, str]
    body: dict[str, Any]
    timeout: float
    fail_on_status: bool
    follow_redirects: bool


def _call(request: Mapping[str, Any]) -> _Call:
    try:
        url = httpx.URL(str(request["url"]))
    except httpx.InvalidURL as err:
        raise ApplicationError(
            f"http node URL is not valid: {err}", type="InvalidUrl", non_retryable=True
        ) from err
    body = request.get("body")
    payload: dict[str, Any] = {}
    if isinstance(body, str):
        payload["content"] = body.encode()
    elif body is not None:
        payload["json"] = body
    return _Call(
        method=str(request.get("method", "GET")).upper(),
        url=url,
        headers={str(k): str(v) for k, v in (request.get("headers") or {}).items()},
        body=payload,
        timeout=float(request.get("timeout_s", 30)),
        fail_on_status=bool(request.get("fail_on_status", True)),
        follow_redirects=bool(request.get("follow_redirects", True)),
    )


def _policy(policy: egress.EgressPolicy | None) -> egress.EgressPolicy:
    if policy is not None:
        return policy
    try:
        return egress.current()
    except ValueError as err:  # a bad RUNLOOM_EGRESS_ALLOW in an export: no retry fixes it
        raise ApplicationError(str(err), type="EgressConfigError", non_retryable=True) from err


async def _read_capped(response: httpx.Response, *, limit: int) -> bytes:
    # Counted after decompression too: a small gzip body can inflate a thousandfold.
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise ResponseTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _decode(response: httpx.Response, content: bytes) -> Any:
    content_type = response.headers.get("content-type", "")
    if "json" in content_type.lower():
        try:
            return json.loads(content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            pass
    return _text(response, content)


def _text(response: httpx.Response, content: bytes) -> str:
    try:
        return content.decode(response.encoding or "utf-8", errors="replace")
    except LookupError:  # an unknown charset in content-type
        return content.decode("utf-8", errors="replace")


async def _send(
    call: _Call, *, transport: httpx.AsyncBaseTransport, limit: int, log: _HopLog
) -> tuple[httpx.Response, bytes]:
    async with (
        httpx.AsyncClient(
            timeout=call.timeout,
            transport=transport,
            trust_env=False,
            follow_redirects=call.follow_redirects,
            max_redirects=_MAX_REDIRECTS,
            event_hooks={"request": [log.on_request], "response": [log.on_response]},
        ) as client,
        client.stream(call.method, call.url, headers=call.headers, **call.body) as response,
    ):
        return response, await _read_capped(response, limit=limit)


async def perform(
    request: Mapping[str, Any],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    policy: egress.EgressPolicy | None = None,
    resolver: egress.Resolver = egress.system_resolver,
    network_backend: httpcore.AsyncNetworkBackend | None = None,
) -> dict[str, Any]:
    """Send ``request`` (method, url, headers, body, timeout_s, fail_on_status).

    Returns ``{"output": {"status", "headers", "body"}, "attempt": n, "logs": [...]}``.
    ``policy`` defaults to :func:`egress.current`; ``resolver`` and ``network_backend`` are
    seams of :class:`GuardedBackend`. A ``transport`` replaces the guarded one altogether
    (tests with ``httpx.MockTransport``): the caller then owns where requests go.
    """
    call = _call(request)
    policy = _policy(policy)
    shown = f"{call.method} {_shown(call.url)}"
    log = _HopLog()
    try:
        egress.check_scheme(call.url.scheme)
        if transport is None:
            transport = GuardedTransport(
                policy=policy, resolver=resolver, network_backend=network_backend
            )
        response, content = await _send(
            call, transport=transport, limit=policy.max_body_bytes, log=log
        )
    except egress.EgressDenied as err:
        log.fail("refused")
        raise ApplicationError(
            str(err), {"logs": log.lines}, type="EgressDenied", non_retryable=True
        ) from err
    except ResponseTooLarge as err:
        log.fail("too large")
        raise ApplicationError(
            f"{shown} failed: {err}",
            {"logs": log.lines},
            type="ResponseTooLarge",
            non_retryable=True,
        ) from err
    except httpx.HTTPError as err:
        log.fail(type(err).__name__)
        raise ApplicationError(
            f"{shown} failed: {type(err).__name__}: {err}",
            {"logs": log.lines},
            type="HttpTransportError",
        ) from err
    return _result(call, shown=shown, response=response, content=content, logs=log.lines)


def _result(
    call: _Call, *, shown: str, response: httpx.Response, content: bytes, logs: list[str]
) -> dict[str, Any]:
    if call.fail_on_status and not response.is_success:
        raise ApplicationError(
            f"{shown} answered HTTP {response.status_code}",
            {
                "status": response.status_code,
                "body": _text(response, content)[:2000],
                "logs": logs,
            },
            type="HttpStatusError",
        )
    output = {
        "status": response.status_code,
        "headers": dict(response.headers.items()),
        "body": _decode(response, content),
    }
    return {"output": output, "attempt": _attempt(), "logs": logs}


def _attempt() -> int | None:
    return activity.info().attempt if activity.in_activity() else None
