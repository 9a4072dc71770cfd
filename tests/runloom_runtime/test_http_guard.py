"""The egress guard of http nodes, end to end through httpx.

Real requests go only to servers on 127.0.0.1. Anything else is answered by a fake
resolver and a fake network backend; the fixture below fails a test that would open a
socket to, or look up, anything but a loopback address.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import ipaddress
import re
import socket
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpcore
import httpx
import pytest
from temporalio.exceptions import ApplicationError

from runloom_runtime import http
from runloom_runtime.egress import EgressPolicy

PUBLIC = "93.184.216.34"
DENIED_TAIL = (
    "only public addresses are allowed by default; list it in RUNLOOM_EGRESS_ALLOW to allow it"
)


def _is_loopback(host: object) -> bool:
    try:
        return ipaddress.ip_address(str(host).partition("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything connects to, or resolves, a non-loopback address."""
    connect, connect_ex, getaddrinfo = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.getaddrinfo,
    )

    def check(address: Any) -> None:
        if isinstance(address, tuple) and not _is_loopback(address[0]):
            raise AssertionError(f"a test tried to connect to {address!r}")

    def guarded_connect(self: socket.socket, address: Any) -> None:
        check(address)
        connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return connect_ex(self, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _is_loopback(
            host.decode() if isinstance(host, bytes) else host
        ):
            raise AssertionError(f"a test tried to resolve {host!r}")
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)


# --- loopback servers -------------------------------------------------------------------


@dataclass(kw_only=True)
class _Server:
    port: int = 0
    heads: list[bytes] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _answer(status: str, body: bytes = b"", *headers: str, length: bool = True) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Connection: close", *headers]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@contextlib.asynccontextmanager
async def _serve(answer: Callable[[bytes], bytes]) -> AsyncIterator[_Server]:
    """An HTTP/1.1 server on 127.0.0.1 that answers each request head with ``answer``."""
    state = _Server()

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            state.heads.append(head)
            writer.write(answer(head))
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    async with server:
        yield state


def _json_answer(head: bytes) -> bytes:
    return _answer("200 OK", b'{"ok": true}', "Content-Type: application/json")


def _redirect_to(location: str) -> Callable[[bytes], bytes]:
    return lambda head: _answer("302 Found", b"", f"Location: {location}")


# --- fakes for everything that is not loopback ------------------------------------------


def _resolver(*answers: Sequence[str]) -> tuple[Callable[..., Any], list[str]]:
    """A resolver giving ``answers`` in turn (the last one again), and the names it got."""
    asked: list[str] = []

    async def resolve(host: str, port: int) -> Sequence[str]:
        asked.append(host)
        return answers[min(len(asked), len(answers)) - 1]

    return resolve, asked


class _NoConnect(httpcore.AsyncNetworkBackend):
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AssertionError(f"the guard let a connection to {host}:{port} through")


class _FakeStream(httpcore.AsyncNetworkStream):
    def __init__(self, answer: bytes) -> None:
        self.written = bytearray()
        self.tls_hostname: str | None = None
        self._answer = [answer]

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        return self._answer.pop(0) if self._answer else b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        self.written += buffer

    async def aclose(self) -> None:
        pass

    async def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> httpcore.AsyncNetworkStream:
        self.tls_hostname = server_hostname
        return self


class _FakeNetwork(httpcore.AsyncNetworkBackend):
    """Records where the guard connects and answers from memory: no socket at all."""

    def __init__(self, answer: bytes) -> None:
        self.connects: list[tuple[str, int]] = []
        self.streams: list[_FakeStream] = []
        self._answer = answer

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connects.append((host, port))
        self.streams.append(_FakeStream(self._answer))
        return self.streams[-1]


async def _refused(request: dict[str, Any], **seams: Any) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        await http.perform(request, **seams)
    assert caught.value.non_retryable
    return caught.value


# --- tests ------------------------------------------------------------------------------


async def test_loopback_server_is_refused_by_default() -> None:
    async with _serve(_json_answer) as server:
        error = await _refused({"url": f"{server.origin}/x"}, policy=EgressPolicy())
    assert error.type == "EgressDenied"
    assert error.message == (
        f"http node may not reach 127.0.0.1:{server.port} (loopback): {DENIED_TAIL}"
    )
    assert server.heads == []


async def test_allow_list_opens_a_loopback_server_and_logs_without_query() -> None:
    async with _serve(_json_answer) as server:
        policy = EgressPolicy(allow=(f"127.0.0.1:{server.port}",))
        url = f"http://user:pw@127.0.0.1:{server.port}/data?token=s3cret#part"
        result = await http.perform({"url": url}, policy=policy)
    assert result["output"]["status"] == 200
    assert result["output"]["body"] == {"ok": True}
    assert result["attempt"] is None
    [line] = result["logs"]
    assert re.fullmatch(rf"GET http://127\.0\.0\.1:{server.port}/data -> 200 \(\d+ ms\)", line)
    assert b"GET /data?token=s3cret HTTP/1.1" in server.heads[0]
    assert f"Host: 127.0.0.1:{server.port}".encode() in server.heads[0]


async def test_platform_address_is_refused_despite_a_broad_allow_entry() -> None:
    async with _serve(_json_answer) as server:
        policy = EgressPolicy(allow=("127.0.0.0/8",), deny=(f"127.0.0.1:{server.port}",))
        error = await _refused({"url": f"{server.origin}/api"}, policy=policy)
    assert error.message == (
        f"http node may not reach 127.0.0.1:{server.port} (platform address): runloom's own "
        "services are refused; list it with its port in RUNLOOM_EGRESS_ALLOW to allow it"
    )
    assert server.heads == []


async def test_name_resolving_to_loopback_is_refused() -> None:
    resolver, asked = _resolver(["127.0.0.1"])
    error = await _refused(
        {"url": "http://rebind.test/"},
        policy=EgressPolicy(),
        resolver=resolver,
        network_backend=_NoConnect(),
    )
    assert error.message == (
        f"http node may not reach rebind.test:80 (address 127.0.0.1) (loopback): {DENIED_TAIL}"
    )
    assert asked == ["rebind.test"]


async def test_a_name_with_one_private_address_is_refused() -> None:
    resolver, _ = _resolver([PUBLIC, "10.0.0.1"])
    error = await _refused(
        {"url": "http://mixed.test/"},
        policy=EgressPolicy(),
        resolver=resolver,
        network_backend=_NoConnect(),
    )
    assert error.message.startswith("http node may not reach mixed.test:80 (address 10.0.0.1)")


async def test_rebinding_cannot_swap_the_address_after_the_check() -> None:
    """First answer public, every later one loopback: the guard resolves once and connects
    to the address it checked, so the loopback answer is never used."""
    resolver, asked = _resolver([PUBLIC], ["127.0.0.1"])
    network = _FakeNetwork(_answer("200 OK", b"ok", "Content-Type: text/plain"))
    result = await http.perform(
        {"url": "http://rebind.test/path"},
        policy=EgressPolicy(),
        resolver=resolver,
        network_backend=network,
    )
    assert result["output"]["body"] == "ok"
    assert asked == ["rebind.test"]
    assert network.connects == [(PUBLIC, 80)]
    assert b"\r\nHost: rebind.test\r\n" in network.streams[0].written


async def test_https_keeps_sni_and_host_on_the_name() -> None:
    resolver, _ = _resolver([PUBLIC])
    network = _FakeNetwork(_answer("200 OK", b"{}", "Content-Type: application/json"))
    result = await http.perform(
        {"url": "https://api.example.test/v1"},
        policy=EgressPolicy(),
        resolver=resolver,
        network_backend=network,
    )
    assert result["output"]["body"] == {}
    assert network.connects == [(PUBLIC, 443)]
    assert network.streams[0].tls_hostname == "api.example.test"
    assert b"\r\nHost: api.example.test\r\n" in network.streams[0].written


async def test_redirect_to_an_unlisted_server_is_refused() -> None:
    async with (
        _serve(_json_answer) as target,
        _serve(_redirect_to(f"{target.origin}/end?k=v")) as start,
    ):
        policy = EgressPolicy(allow=(f"127.0.0.1:{start.port}",))
        error = await _refused({"url": f"{start.origin}/start"}, policy=policy)
    assert error.type == "EgressDenied"
    assert error.message == (
        f"http node may not reach 127.0.0.1:{target.port} (loopback): {DENIED_TAIL}"
    )
    assert target.heads == []
    first, second = error.details[0]["logs"]
    assert re.fullmatch(rf"GET http://127\.0\.0\.1:{start.port}/start -> 302 \(\d+ ms\)", first)
    assert second == f"GET http://127.0.0.1:{target.port}/end -> refused"


async def test_redirect_between_listed_servers_is_followed() -> None:
    async with (
        _serve(_json_answer) as target,
        _serve(_redirect_to(f"{target.origin}/end")) as start,
    ):
        allow = (f"127.0.0.1:{start.port}", f"127.0.0.1:{target.port}")
        result = await http.perform(
            {"url": f"{start.origin}/start"}, policy=EgressPolicy(allow=allow)
        )
    assert result["output"]["body"] == {"ok": True}
    assert [line.split(" -> ")[1].split()[0] for line in result["logs"]] == ["302", "200"]


async def test_redirect_to_a_file_url_is_refused() -> None:
    async with _serve(_redirect_to("file:///etc/passwd")) as start:
        policy = EgressPolicy(allow=(f"127.0.0.1:{start.port}",))
        error = await _refused({"url": f"{start.origin}/start"}, policy=policy)
    assert error.type == "EgressDenied"
    assert error.message == "http node may only fetch http:// and https:// URLs, not file:"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "127.0.0.1/x"])
async def test_other_schemes_are_refused(url: str) -> None:
    error = await _refused({"url": url}, policy=EgressPolicy(), network_backend=_NoConnect())
    assert error.type == "EgressDenied"
    assert error.message in (
        "http node may only fetch http:// and https:// URLs, not file:",
        "http node may only fetch http:// and https:// URLs, not ftp:",
        "http node URLs must start with http:// or https://",
    )


@pytest.mark.parametrize("length", [True, False])
async def test_body_over_the_limit_fails_the_node(length: bool) -> None:
    def big(head: bytes) -> bytes:
        return _answer("200 OK", b"x" * 5000, length=length)

    async with _serve(big) as server:
        policy = EgressPolicy(allow=(f"127.0.0.1:{server.port}",), max_body_bytes=1000)
        error = await _refused({"url": f"{server.origin}/big?k=v"}, policy=policy)
    assert error.type == "ResponseTooLarge"
    assert error.message == (
        f"GET http://127.0.0.1:{server.port}/big failed: the response body is larger than "
        "1000 bytes; raise RUNLOOM_HTTP_MAX_BODY_MB to allow larger responses"
    )


async def test_redirect_bodies_are_capped_too() -> None:
    async with _serve(_json_answer) as target:

        def redirect(head: bytes) -> bytes:
            return _answer("302 Found", b"x" * 5000, f"Location: {target.origin}/", length=False)

        async with _serve(redirect) as start:
            allow = (f"127.0.0.1:{start.port}", f"127.0.0.1:{target.port}")
            policy = EgressPolicy(allow=allow, max_body_bytes=1000)
            error = await _refused({"url": f"{start.origin}/"}, policy=policy)
    assert error.type == "ResponseTooLarge"
    assert target.heads == []


class _EndlessBody(httpx.AsyncByteStream):
    def __init__(self) -> None:
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            self.pulled += 1
            yield b"x" * 1000


async def test_body_limit_stops_reading_one_chunk_past_it() -> None:
    body = _EndlessBody()
    transport = httpx.MockTransport(lambda request: httpx.Response(200, stream=body))
    error = await _refused(
        {"url": "http://t/endless"}, transport=transport, policy=EgressPolicy(max_body_bytes=10_000)
    )
    assert error.message == (
        "GET http://t/endless failed: the response body is larger than 10000 bytes; "
        "raise RUNLOOM_HTTP_MAX_BODY_MB to allow larger responses"
    )
    assert body.pulled == 11


async def test_body_limit_counts_decompressed_bytes() -> None:
    bomb = gzip.compress(b"\0" * 1024 * 1024)
    transport = httpx.MockTransport(
        lambda request: httpx.Response(200, content=bomb, headers={"Content-Encoding": "gzip"})
    )
    policy = EgressPolicy(max_body_bytes=1024 * 1024 - 1)
    error = await _refused({"url": "http://t/bomb"}, transport=transport, policy=policy)
    assert error.type == "ResponseTooLarge"
    assert "1048575 bytes" in error.message


async def test_proxies_from_the_environment_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    async with _serve(_json_answer) as proxy, _serve(_json_answer) as server:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
            monkeypatch.setenv(name, proxy.origin)
        policy = EgressPolicy(allow=(f"127.0.0.1:{server.port}",))
        result = await http.perform({"url": f"{server.origin}/"}, policy=policy)
    assert result["output"]["status"] == 200
    assert proxy.heads == []
    assert len(server.heads) == 1


async def test_connection_failures_stay_retryable() -> None:
    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ApplicationError) as caught:
        await http.perform(
            {"url": f"http://127.0.0.1:{port}/"},
            policy=EgressPolicy(allow=(f"127.0.0.1:{port}",)),
        )
    assert caught.value.type == "HttpTransportError"
    assert not caught.value.non_retryable
    assert caught.value.details[0]["logs"] == [f"GET http://127.0.0.1:{port}/ -> ConnectError"]


async def test_default_policy_comes_from_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from runloom_runtime import egress

    async with _serve(_json_answer) as server:
        monkeypatch.setattr(egress, "_policy", EgressPolicy(allow=(f"127.0.0.1:{server.port}",)))
        result = await http.perform({"url": f"{server.origin}/"})
        assert result["output"]["status"] == 200
        monkeypatch.setattr(egress, "_policy", EgressPolicy())
        error = await _refused({"url": f"{server.origin}/"})
    assert error.type == "EgressDenied"


async def test_bad_allow_setting_fails_the_node_without_retry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from runloom_runtime import egress

    monkeypatch.setattr(egress, "_policy", None)
    monkeypatch.setenv("RUNLOOM_EGRESS_ALLOW", "not a host")
    error = await _refused({"url": "http://t/"}, network_backend=_NoConnect())
    assert error.type == "EgressConfigError"
    assert error.message == (
        "RUNLOOM_EGRESS_ALLOW: 'not a host' is not a host, host:port or CIDR entry"
    )


def test_guarded_transport_refuses_to_run_if_httpx_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def without_pool(self: httpx.AsyncHTTPTransport, **kwargs: Any) -> None:
        pass

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "__init__", without_pool)
    with pytest.raises(RuntimeError, match="refusing to send http node requests"):
        http.GuardedTransport(policy=EgressPolicy())


async def test_allowed_name_connects_to_the_address_it_resolved() -> None:
    async with _serve(_json_answer) as server:
        resolver, asked = _resolver(["127.0.0.1"])
        result = await http.perform(
            {"url": f"http://svc.test:{server.port}/"},
            policy=EgressPolicy(allow=("svc.test",)),
            resolver=resolver,
        )
    assert result["output"]["body"] == {"ok": True}
    assert asked == ["svc.test"]
    assert f"\r\nHost: svc.test:{server.port}\r\n".encode() in server.heads[0]
