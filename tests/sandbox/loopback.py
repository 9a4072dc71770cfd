"""Servers on this host's loopback for the network tests, and the guard that keeps every
test's traffic there: a connection or a name lookup beyond loopback is stopped before any
socket opens, and recorded so that the test fails."""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

BIG_BODY = b"0123456789abcdef" * (320 * 1024)  # 5 MiB: more than any buffer on the way


def _is_loopback(host: object) -> bool:
    try:
        return ipaddress.ip_address(str(host).partition("%")[0]).is_loopback
    except ValueError:
        return False


def _is_ip(host: object) -> bool:
    try:
        ipaddress.ip_address(str(host).partition("%")[0])
    except ValueError:
        return False
    return True


def guard_traffic(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Stop (and list) IP connections beyond loopback and lookups of names, process-wide."""
    violations: list[str] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            violations.append(f"connect to {address!r}")
            raise OSError(errno.ENETUNREACH, "stopped by the test guard: beyond loopback")

    def connect(self: socket.socket, address: Any) -> None:
        check(self, address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(self, address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in (None, "localhost") and not _is_ip(host):
            violations.append(f"lookup of {host!r}")
            raise socket.gaierror(socket.EAI_NONAME, "stopped by the test guard: a lookup")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return violations


@dataclass(frozen=True)
class Seen:
    peer: str
    head: str
    body: bytes

    def header(self, name: str) -> str | None:
        for line in self.head.split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None


@dataclass
class Web:
    """An HTTP/1.1 server: ``/big`` is BIG_BODY, ``/echo`` the request body, else hello."""

    port: int = 0
    connections: int = 0
    requests: list[Seen] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            seen = Seen(peer=str(writer.get_extra_info("peername")), head=head, body=b"")
            body = await reader.readexactly(int(seen.header("content-length") or 0))
            self.requests.append(Seen(peer=seen.peer, head=head, body=body))
            path = head.split(" ")[1]
            payload = BIG_BODY if path == "/big" else body if path == "/echo" else b"hello"
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                + f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()


@dataclass
class Echo:
    """A TCP server that reads until the client's end, then answers ``echo:`` + data."""

    port: int = 0
    connections: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            data = await reader.read()
            writer.write(b"echo:" + data)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()


@asynccontextmanager
async def serving(
    handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any],
    tls: ssl.SSLContext | None = None,
) -> AsyncIterator[int]:
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


def self_signed(directory: Path) -> tuple[ssl.SSLContext, str] | None:
    """A server context with a fresh self-signed certificate for 127.0.0.1, and the
    certificate (PEM); None without openssl."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt"]
    command += ["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=loopback"]
    command += ["-addext", "subjectAltName=IP:127.0.0.1"]
    try:
        subprocess.run(
            [*command, "-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context, cert.read_text()


NAMES = {
    "db.internal": ("127.0.0.1",),
    "metadata.internal": ("169.254.169.254",),
    "api.example.com": ("93.184.215.14",),
    "other.example.com": ("93.184.215.15",),
    "mixed.example.com": ("93.184.215.14", "10.1.2.3"),
}


@dataclass
class Seams:
    """The proxy's resolver and connector for tests: names from NAMES (IP literals as
    they are), and a connector that records where it was asked to go and opens nothing."""

    names: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(NAMES))
    lookups: list[tuple[str, int]] = field(default_factory=list)
    connects: list[tuple[str, int]] = field(default_factory=list)

    async def resolve(self, host: str, port: int) -> tuple[str, ...]:
        self.lookups.append((host, port))
        if _is_ip(host):
            return (host,)
        if host in self.names:
            return self.names[host]
        raise OSError(f"{host} is unknown to the test resolver")

    async def refuse(self, address: str, port: int) -> Any:
        self.connects.append((address, port))
        raise OSError(errno.ENETUNREACH, "the test connector opens no socket")
