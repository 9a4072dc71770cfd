"""The worker's end of a python node's network: an HTTP proxy on a Unix socket.

A pool with ``network=True`` starts one :class:`EgressProxy`. Its socket lies in a private
directory (0700) and is bound into every runner's jail at :data:`JAIL_EGRESS_SOCKET`,
where the runner's forwarder (``_runner_network.py``) relays the connections that node
code makes to its loopback proxy. The proxy speaks the two forms HTTP clients use through a
proxy: ``CONNECT host:port`` (an HTTPS tunnel) and a request with an absolute
``http://`` URL. Either way it resolves the host once with
:func:`runloom_runtime.egress.resolve_checked`, the check http nodes use, connects to one of
the checked addresses (never resolving again: DNS rebinding cannot swap in another), and
then moves bytes both ways until both sides are done or the connection sits idle. A
refusal is an answer with a status, the reason as its reason phrase and body (``403``
for the policy's refusals; urllib, http.client, requests and httpx show it in their
errors), and ``X-Runloom-Egress: refused`` to tell it from an origin server's answer.

Tunnels carry anything, so they may only go to the HTTPS ports (:data:`DEFAULT_TUNNEL_PORTS`)
or to a ``host:port`` that the policy's allow list names with its port. Plain requests go
to any port: the proxy writes their head itself (absolute URL turned into a path, its own
``Host`` and ``Connection: close``), so only HTTP leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from runloom_runtime import egress
from runloom_runtime.egress_rules import ALLOW_SETTING, normalize_host, parse_rules

__all__ = [
    "DEFAULT_TUNNEL_PORTS",
    "JAIL_EGRESS_SOCKET",
    "Connector",
    "EgressProxy",
    "Streams",
    "open_tcp",
]

log = logging.getLogger(__name__)

Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]
# (checked IP literal, port) -> an open connection; a seam for tests, like egress.Resolver.
Connector = Callable[[str, int], Awaitable[Streams]]

JAIL_EGRESS_SOCKET = "/run/runloom/egress.sock"
SOCKET_NAME = "egress.sock"
DEFAULT_TUNNEL_PORTS = frozenset({443, 8443})
MAX_HEAD_BYTES = 32 * 1024
_BUFFER = 64 * 1024
_DROPPED = frozenset({"host", "connection", "proxy-connection", "keep-alive"})
_DROPPED_PREFIX = "proxy-"  # Proxy-Authorization and its kin are for us, not for them
_UNSAFE = re.compile(r"[\x00-\x20\x7f]")


async def open_tcp(address: str, port: int) -> Streams:
    """The default connector: a TCP connection to an address that passed the check."""
    return await asyncio.open_connection(address, port, limit=_BUFFER)


class Refused(Exception):
    """An answer instead of a connection: a status and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status

    def response(self) -> bytes:
        message = "".join(c if " " <= c <= "~" else "?" for c in f"runloom egress: {self}")
        body = f"{message}\n".encode()
        head = (
            f"HTTP/1.1 {self.status} {message[:1000]}\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nX-Runloom-Egress: refused\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        return head.encode() + body


class _Idle(Exception):
    """Nothing moved either way for the idle timeout."""


@dataclass(frozen=True, kw_only=True)
class Request:
    """Where a client asked to go, and what to send there first."""

    host: str  # as the client named it: a name or an IP literal, without brackets
    port: int
    tunnel: bool
    head: bytes = b""  # the request's head as the origin server gets it; empty for tunnels

    @property
    def target(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def _authority(netloc: str, *, default_port: int | None) -> tuple[str, int]:
    try:
        parts = urlsplit(f"//{netloc}")
        host, port = parts.hostname, parts.port
    except ValueError as err:
        raise Refused(400, f"{netloc!r} is not a valid host:port ({err})") from None
    port = default_port if port is None else port
    if not host or port is None or "@" in netloc:
        raise Refused(400, f"{netloc!r} is not a valid host:port")
    return host, port


def parse_head(head: bytes) -> Request:
    """A request's head (through its blank line) as a proxy request, or ``Refused``."""
    lines = head.decode("latin-1").split("\r\n")
    request_line = lines[0].split(" ")
    if len(request_line) != 3 or not request_line[2].startswith("HTTP/1."):
        raise Refused(400, "this proxy takes HTTP/1.x requests")
    method, target, version = request_line
    if _UNSAFE.search(target) or not method.isalpha():
        raise Refused(400, "the request line holds characters it may not")
    if method.upper() == "CONNECT":
        host, port = _authority(target, default_port=None)
        return Request(host=host, port=port, tunnel=True)
    scheme = target.partition("://")[0].lower() if "://" in target else ""
    if scheme == "https":
        raise Refused(400, "https:// URLs go through a CONNECT tunnel")
    if scheme != "http":
        raise Refused(400, "this proxy takes CONNECT host:port or an absolute http:// URL")
    try:
        url = urlsplit(target)
    except ValueError as err:
        raise Refused(400, f"the URL is not valid ({err})") from None
    netloc = url.netloc.rpartition("@")[2]  # user:password@ is the client's business
    host, port = _authority(netloc, default_port=80)
    headers = _headers(lines[1:])
    first = f"{method} {_origin_form(url)} {version}\r\nHost: {netloc}\r\n"
    upstream = first + "".join(headers) + "Connection: close\r\n\r\n"
    return Request(host=host, port=port, tunnel=False, head=upstream.encode("latin-1"))


def _origin_form(url: SplitResult) -> str:
    path = url.path or "/"
    return f"{path}?{url.query}" if url.query else path


def _headers(lines: Sequence[str]) -> list[str]:
    """The client's header lines, less those meant for the proxy or the hop."""
    kept = []
    for line in lines:
        if not line:
            break
        name, colon, _ = line.partition(":")
        if not colon or not name or name != name.strip() or "\r" in line or "\n" in line:
            raise Refused(400, "a header line is malformed")
        lowered = name.lower()
        if lowered not in _DROPPED and not lowered.startswith(_DROPPED_PREFIX):
            kept.append(line + "\r\n")
    return kept


class EgressProxy:
    """The HTTP(S) proxy of one runner pool (see the module docstring).

    ``policy``: what nodes may reach; None reads :func:`runloom_runtime.egress.current` on
    each connection, as http nodes do. ``resolver`` and ``connector`` are the seams that
    resolve a host and open a connection to a checked address. ``tunnel_ports``: where
    CONNECT may go besides ``host:port`` entries of the allow list. ``max_connections``
    bounds open connections (more are answered 503).
    """

    def __init__(
        self,
        policy: egress.EgressPolicy | None = None,
        *,
        resolver: egress.Resolver = egress.system_resolver,
        connector: Connector = open_tcp,
        tunnel_ports: Collection[int] = DEFAULT_TUNNEL_PORTS,
        max_connections: int = 64,
        head_timeout_s: float = 10.0,
        connect_timeout_s: float = 10.0,
        idle_timeout_s: float = 120.0,
    ) -> None:
        if max_connections < 1:
            raise ValueError("EgressProxy needs max_connections >= 1")
        self._policy = policy
        self._resolver = resolver
        self._connector = connector
        self.tunnel_ports = frozenset(tunnel_ports)
        self.max_connections = max_connections
        self._head_timeout_s = head_timeout_s
        self._connect_timeout_s = connect_timeout_s
        self._idle_timeout_s = idle_timeout_s
        self._dir: Path | None = None
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[object]] = set()

    @property
    def policy(self) -> egress.EgressPolicy:
        return egress.current() if self._policy is None else self._policy

    @property
    def path(self) -> Path:
        """The socket on the host; ``RuntimeError`` before :meth:`start`."""
        if self._dir is None:
            raise RuntimeError("the egress proxy is not started")
        return self._dir / SOCKET_NAME

    async def start(self) -> None:
        """Listen on a socket in a new private directory (mode 0700, this user's)."""
        if self._dir is not None:
            raise RuntimeError("the egress proxy is already started")
        directory = Path(tempfile.mkdtemp(prefix="runloom-egress-"))
        path = directory / SOCKET_NAME
        try:
            self._server = await asyncio.start_unix_server(
                self._serve, path=str(path), limit=MAX_HEAD_BYTES
            )
            # The directory keeps everyone else out; inside a jail, the runner's user
            # (nobody, under a root worker) must be able to connect.
            path.chmod(0o666)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        self._dir = directory

    async def close(self) -> None:
        """Stop listening, end every connection, remove the directory."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        handlers = list(self._handlers)
        for handler in handlers:
            handler.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        if server is not None:
            await server.wait_closed()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        try:
            if len(self._handlers) > self.max_connections:
                message = f"more than {self.max_connections} connections at once"
                writer.write(Refused(503, message).response())
                await writer.drain()
            else:
                await self._handle(reader, writer)
        except (OSError, asyncio.IncompleteReadError):
            pass  # the client went away: nobody to answer
        except Exception:
            log.exception("the egress proxy failed on a connection")
        finally:
            self._handlers.discard(handler)
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await self._read(reader)
            upstream = await self._open(request)
        except Refused as refusal:
            log.info("python node network request refused (%s): %s", refusal.status, refusal)
            writer.write(refusal.response())
            await writer.drain()
            return
        try:
            if request.tunnel:
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                upstream[1].write(request.head)
            await self._relay((reader, writer), upstream)
        finally:
            upstream[1].close()
            with contextlib.suppress(OSError):
                await upstream[1].wait_closed()

    async def _read(self, reader: asyncio.StreamReader) -> Request:
        try:
            async with asyncio.timeout(self._head_timeout_s):
                head = await reader.readuntil(b"\r\n\r\n")
        except TimeoutError:
            raise Refused(408, "the request did not arrive in time") from None
        except asyncio.LimitOverrunError:
            raise Refused(400, f"the request's head is over {MAX_HEAD_BYTES} bytes") from None
        return parse_head(head)

    async def _open(self, request: Request) -> Streams:
        """Resolve once, check, connect to a checked address; ``Refused`` otherwise."""
        policy = self.policy
        try:
            async with asyncio.timeout(self._connect_timeout_s):
                if request.tunnel:
                    self._check_tunnel(request, None, policy)
                addresses = await egress.resolve_checked(
                    request.host, request.port, policy=policy, resolver=self._resolver
                )
                if request.tunnel:
                    self._check_tunnel(request, addresses, policy)
                return await self._connect(request, addresses)
        except egress.EgressDenied as err:
            raise Refused(403, str(err)) from None
        except TimeoutError:
            raise Refused(504, f"connecting to {request.target} timed out") from None
        except OSError as err:
            raise Refused(502, str(err)) from None

    def _check_tunnel(
        self, request: Request, addresses: Sequence[str] | None, policy: egress.EgressPolicy
    ) -> None:
        """Tunnels go to the HTTPS ports, or where the allow list names the port."""
        port = request.port
        if not policy.enforce or port in self.tunnel_ports:
            return
        rules = [r for r in parse_rules(policy.allow, setting=ALLOW_SETTING) if r.port == port]
        name = normalize_host(request.host)
        if rules and all(
            any(r.matches(address=ipaddress.ip_address(ip), port=port, host=name) for r in rules)
            for ip in addresses or ()
        ):
            return
        ports = ", ".join(str(p) for p in sorted(self.tunnel_ports)) or "none"
        raise egress.EgressDenied(
            f"python node may not open a tunnel to {request.target}: tunnels (HTTPS) go to "
            f"ports {ports}; list {request.target} in {ALLOW_SETTING} to allow it"
        )

    async def _connect(self, request: Request, addresses: Sequence[str]) -> Streams:
        failure: OSError | None = None
        for address in addresses:  # every one was checked; in the resolver's order
            try:
                return await self._connector(address, request.port)
            except OSError as err:
                failure = err
        raise OSError(f"cannot connect to {request.target}: {failure}")

    async def _relay(self, client: Streams, upstream: Streams) -> None:
        """Bytes both ways; each side's end is passed on; idle for too long, both end."""
        moved = [time.monotonic()]
        pumps = [
            asyncio.create_task(self._pump(client[0], upstream[1], moved)),
            asyncio.create_task(self._pump(upstream[0], client[1], moved)),
        ]
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, moved: list[float]
    ) -> None:
        while True:
            try:
                async with asyncio.timeout(self._idle_timeout_s):
                    chunk = await reader.read(_BUFFER)
            except TimeoutError:
                if time.monotonic() - moved[0] >= self._idle_timeout_s:
                    raise _Idle from None
                continue  # the other direction is busy (a download, say)
            if not chunk:
                if writer.can_write_eof():
                    with contextlib.suppress(OSError, RuntimeError):
                        writer.write_eof()
                return
            moved[0] = time.monotonic()
            writer.write(chunk)
            await writer.drain()
