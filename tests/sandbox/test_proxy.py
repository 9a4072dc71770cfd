"""The egress proxy on its own: what it parses, where it connects, what it refuses and why.

Clients speak to its Unix socket from the test; upstream servers are one end of a socket
pair served in this process (a connector that reaches no network at all), and names come
from the test resolver. ``traffic_guard`` fails a test if anything tried the network.
"""

from __future__ import annotations

import asyncio
import socket
import stat
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from runloom.sandbox.proxy import EgressProxy, Refused, Streams, parse_head
from runloom_runtime import egress
from runloom_runtime.egress import EgressPolicy
from tests.sandbox.loopback import Seams

pytestmark = pytest.mark.usefixtures("traffic_guard")


@dataclass
class Upstream:
    """A connector to in-process servers: port 80 answers HTTP, any other port echoes
    what it read once the client's side ended."""

    seams: Seams
    heads: list[bytes] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def connect(self, address: str, port: int) -> Streams:
        self.seams.connects.append((address, port))
        ours, theirs = socket.socketpair()
        reader, writer = await asyncio.open_connection(sock=theirs)
        task = asyncio.create_task(self.serve(reader, writer, http=port == 80))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return await asyncio.open_connection(sock=ours)

    async def serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, http: bool
    ) -> None:
        try:
            if http:
                self.heads.append(await reader.readuntil(b"\r\n\r\n"))
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            else:
                writer.write(b"echo:" + await reader.read())
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()


@asynccontextmanager
async def running(
    policy: EgressPolicy | None = None, **options: Any
) -> AsyncIterator[tuple[EgressProxy, Seams, Upstream]]:
    seams = Seams()
    upstream = Upstream(seams)
    options.setdefault("connector", upstream.connect)
    proxy = EgressProxy(
        EgressPolicy() if policy is None else policy, resolver=seams.resolve, **options
    )
    await proxy.start()
    try:
        yield proxy, seams, upstream
    finally:
        await proxy.close()
        await asyncio.gather(*upstream.tasks, return_exceptions=True)


async def ask(proxy: EgressProxy, data: bytes, *, end: bool = False) -> bytes:
    """Send ``data`` (and end our side, if asked); everything the proxy answers."""
    reader, writer = await asyncio.open_unix_connection(str(proxy.path))
    try:
        writer.write(data)
        if end:
            writer.write_eof()
        async with asyncio.timeout(5):
            return await reader.read()
    finally:
        writer.close()


def test_an_absolute_url_becomes_an_origin_request() -> None:
    head = (
        b"POST http://user:pw@API.example.com:8080/v1/items?x=1#frag HTTP/1.1\r\n"
        b"Host: elsewhere\r\nProxy-Authorization: Basic eA==\r\nProxy-Connection: keep-alive\r\n"
        b"Connection: keep-alive\r\nKeep-Alive: 5\r\nContent-Length: 3\r\nAccept: */*\r\n\r\n"
    )
    request = parse_head(head)
    assert (request.host, request.port, request.tunnel) == ("api.example.com", 8080, False)
    assert request.head == (
        b"POST /v1/items?x=1 HTTP/1.1\r\nHost: API.example.com:8080\r\n"
        b"Content-Length: 3\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    )
    tunnel = parse_head(b"CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (tunnel.host, tunnel.port, tunnel.tunnel, tunnel.head) == ("2001:db8::1", 443, True, b"")
    assert tunnel.target == "[2001:db8::1]:443"
    assert parse_head(b"GET http://example.com HTTP/1.0\r\n\r\n").head.startswith(
        b"GET / HTTP/1.0\r\nHost: example.com\r\n"
    )


@pytest.mark.parametrize(
    "head",
    [
        b"GET /relative HTTP/1.1\r\n\r\n",
        b"GET https://example.com/ HTTP/1.1\r\n\r\n",
        b"GET ftp://example.com/ HTTP/1.1\r\n\r\n",
        b"GET http://example.com/ HTTP/2\r\n\r\n",
        b"GET http://example.com/\x01 HTTP/1.1\r\n\r\n",
        b"GET http://example.com/\nx HTTP/1.1\r\n\r\n",
        b"GET http://example.com/ HTTP/1.1\r\nno colon here\r\n\r\n",
        b"GET http://example.com/ HTTP/1.1\r\nX-A: 1\nX-B: 2\r\n\r\n",
        b"GET http://[::1/ HTTP/1.1\r\n\r\n",
        b"GET http://example.com:99999/ HTTP/1.1\r\n\r\n",
        b"GET http:///path HTTP/1.1\r\n\r\n",
        b"CONNECT example.com HTTP/1.1\r\n\r\n",
        b"CONNECT user@example.com:443 HTTP/1.1\r\n\r\n",
        b"G=T http://example.com/ HTTP/1.1\r\n\r\n",
    ],
)
async def test_malformed_requests_get_400_without_a_lookup(head: bytes) -> None:
    with pytest.raises(Refused) as refused:
        parse_head(head)
    assert refused.value.status == 400
    async with running() as (proxy, seams, _):
        answer = await ask(proxy, head)
    assert answer.startswith(b"HTTP/1.1 400 runloom egress: ")
    assert seams.lookups == [] and seams.connects == []


async def test_a_request_goes_to_the_checked_address_resolved_once() -> None:
    async with running() as (proxy, seams, upstream):
        head = b"GET http://api.example.com/v1?x=1 HTTP/1.1\r\nHost: api.example.com\r\n\r\n"
        answer = await ask(proxy, head)
        seams.names["api.example.com"] = ("127.0.0.1",)  # a rebinding answer, too late
    assert answer == b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    assert seams.lookups == [("api.example.com", 80)]
    assert seams.connects == [("93.184.215.14", 80)]
    assert upstream.heads == [
        b"GET /v1?x=1 HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\n\r\n"
    ]


async def test_a_tunnel_relays_both_ways_and_passes_the_clients_end() -> None:
    async with running() as (proxy, seams, _):
        answer = await ask(proxy, b"CONNECT api.example.com:443 HTTP/1.1\r\n\r\nping", end=True)
    assert answer == b"HTTP/1.1 200 Connection established\r\n\r\necho:ping"
    assert seams.connects == [("93.184.215.14", 443)]


async def test_tunnels_go_to_https_ports_or_to_listed_host_ports() -> None:
    async with running() as (proxy, seams, _):
        answer = await ask(proxy, b"CONNECT api.example.com:25 HTTP/1.1\r\n\r\n")
        assert answer.startswith(
            b"HTTP/1.1 403 runloom egress: python node may not open a tunnel to "
            b"api.example.com:25: tunnels (HTTPS) go to ports 443, 8443; list "
            b"api.example.com:25 in RUNLOOM_EGRESS_ALLOW to allow it\r\n"
        )
        assert seams.lookups == [] and seams.connects == []
        answer = await ask(proxy, b"CONNECT api.example.com:8443 HTTP/1.1\r\n\r\nx", end=True)
        assert answer.endswith(b"\r\n\r\necho:x")
    async with running(EgressPolicy(allow=("api.example.com:2525",))) as (proxy, seams, _):
        answer = await ask(proxy, b"CONNECT api.example.com:2525 HTTP/1.1\r\n\r\nx", end=True)
        assert answer.endswith(b"\r\n\r\necho:x")
        answer = await ask(proxy, b"CONNECT other.example.com:2525 HTTP/1.1\r\n\r\n")
        assert b"403 runloom egress: python node may not open a tunnel to other" in answer
        assert seams.connects == [("93.184.215.14", 2525)]
    async with running(EgressPolicy(enforce=False)) as (proxy, seams, _):
        answer = await ask(proxy, b"CONNECT 127.0.0.9:25 HTTP/1.1\r\n\r\nx", end=True)
        assert answer.endswith(b"\r\n\r\necho:x")
        assert seams.connects == [("127.0.0.9", 25)]


@pytest.mark.parametrize(
    ("head", "fragment"),
    [
        (b"GET http://10.1.2.3/ HTTP/1.1", b"10.1.2.3:80 (private)"),
        (b"CONNECT 169.254.169.254:443 HTTP/1.1", b"169.254.169.254:443 (link-local)"),
        (b"GET http://[fe80::1]/ HTTP/1.1", b"[fe80::1]:80 (link-local)"),
        (b"CONNECT [::1]:443 HTTP/1.1", b"[::1]:443 (loopback)"),
        (b"GET http://db.internal:5432/ HTTP/1.1", b"(address 127.0.0.1) (loopback)"),
        (b"CONNECT mixed.example.com:443 HTTP/1.1", b"(address 10.1.2.3) (private)"),
        (b"GET http://0.0.0.0:8080/ HTTP/1.1", b"0.0.0.0:8080 (unspecified)"),
    ],
)
async def test_refusals_say_why_and_open_nothing(head: bytes, fragment: bytes) -> None:
    async with running() as (proxy, seams, _):
        answer = await ask(proxy, head + b"\r\n\r\n")
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 403 runloom egress: http node may not reach ")
    assert fragment in status_line
    assert rest.endswith(status_line[len(b"HTTP/1.1 403 ") :] + b"\n")  # the body says it too
    assert b"\r\nX-Runloom-Egress: refused\r\n" in rest  # not the origin server's 403
    assert seams.connects == []


async def test_the_platforms_own_addresses_are_refused() -> None:
    policy = EgressPolicy(deny=("api.example.com:443",))
    async with running(policy) as (proxy, seams, _):
        answer = await ask(proxy, b"CONNECT 93.184.215.14:443 HTTP/1.1\r\n\r\n")
    assert b"403 runloom egress: http node may not reach 93.184.215.14:443 (platform" in answer
    assert seams.connects == []


async def test_no_policy_means_the_processs_current_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(egress, "_policy", EgressPolicy(allow=("10.1.2.3",)))
    seams = Seams()
    upstream = Upstream(seams)
    proxy = EgressProxy(resolver=seams.resolve, connector=upstream.connect)
    await proxy.start()
    try:
        assert (await ask(proxy, b"GET http://10.1.2.3/ HTTP/1.1\r\n\r\n")).endswith(b"ok")
        monkeypatch.setattr(egress, "_policy", EgressPolicy())
        assert b" 403 " in await ask(proxy, b"GET http://10.1.2.3/ HTTP/1.1\r\n\r\n")
    finally:
        await proxy.close()
    assert seams.connects == [("10.1.2.3", 80)]  # the fake connector: no socket


async def test_lookup_and_connection_failures_are_bad_gateways() -> None:
    async def refused(address: str, port: int) -> Streams:
        raise ConnectionRefusedError(111, "Connection refused")

    async def slow(address: str, port: int) -> Streams:
        await asyncio.sleep(10)
        raise AssertionError("not reached")

    async with running() as (proxy, _, _):
        answer = await ask(proxy, b"GET http://nowhere.example.com/ HTTP/1.1\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 502 runloom egress: cannot resolve nowhere.example")
    async with running(connector=refused) as (proxy, _, _):
        answer = await ask(proxy, b"CONNECT api.example.com:443 HTTP/1.1\r\n\r\n")
        assert answer.startswith(
            b"HTTP/1.1 502 runloom egress: cannot connect to api.example.com:443: "
        )
    async with running(connector=slow, connect_timeout_s=0.2) as (proxy, _, _):
        answer = await ask(proxy, b"CONNECT api.example.com:443 HTTP/1.1\r\n\r\n")
        assert answer.startswith(
            b"HTTP/1.1 504 runloom egress: connecting to api.example.com:443 timed out"
        )


async def test_slow_or_huge_heads_are_refused() -> None:
    async with running(head_timeout_s=0.2) as (proxy, seams, _):
        started = time.monotonic()
        answer = await ask(proxy, b"GET http://api.example.com/ HTTP/1.1\r\n")
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert time.monotonic() - started < 2
        answer = await ask(proxy, b"GET http://a/ HTTP/1.1\r\nX: " + b"y" * 40_000)
        assert answer.startswith(b"HTTP/1.1 400 runloom egress: the request's head is over")
        assert seams.lookups == []


async def test_connections_are_capped() -> None:
    async with running(max_connections=2) as (proxy, _, _):
        held = [await asyncio.open_unix_connection(str(proxy.path)) for _ in range(2)]
        await asyncio.sleep(0.1)
        answer = await ask(proxy, b"")
        assert answer.startswith(b"HTTP/1.1 503 runloom egress: more than 2 connections")
        for _, writer in held:
            writer.close()
        await asyncio.sleep(0.1)
        answer = await ask(proxy, b"CONNECT api.example.com:443 HTTP/1.1\r\n\r\n1", end=True)
        assert answer.endswith(b"echo:1")


async def test_idle_tunnels_are_closed() -> None:
    async with running(idle_timeout_s=0.3) as (proxy, _, _):
        reader, writer = await asyncio.open_unix_connection(str(proxy.path))
        writer.write(b"CONNECT api.example.com:443 HTTP/1.1\r\n\r\n")
        started = time.monotonic()
        async with asyncio.timeout(5):
            answer = await reader.read()
        writer.close()
    assert answer == b"HTTP/1.1 200 Connection established\r\n\r\n"
    assert 0.3 <= time.monotonic() - started < 2


async def test_closing_ends_connections_and_removes_the_private_directory() -> None:
    async with running() as (proxy, _, _):
        directory = proxy.path.parent
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        assert stat.S_IMODE(proxy.path.stat().st_mode) == 0o666  # the directory guards it
        reader, writer = await asyncio.open_unix_connection(str(proxy.path))
        writer.write(b"CONNECT api.example.com:443 HTTP/1.1\r\n\r\n")
        await reader.readuntil(b"\r\n\r\n")
        await proxy.close()
        async with asyncio.timeout(5):
            assert await reader.read() == b""
        writer.close()
    assert not directory.exists()
    with pytest.raises(RuntimeError, match="not started"):
        _ = EgressProxy().path
