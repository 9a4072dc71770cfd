"""Python nodes with network on: HTTP(S) through the pool's egress proxy, and nothing else.

Every server here listens on this host's loopback; every address beyond it is refused by
the proxy before a socket could open (its connector is a seam that records and opens
nothing, and ``traffic_guard`` fails the test if anything in this process tried).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import ssl
import stat
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from runloom.sandbox import EgressProxy, RunnerPool
from runloom.sandbox.jail import RUNNER_HOST_ID, Jail, trust_store, venv_site_packages
from runloom.sandbox.proxy import JAIL_EGRESS_SOCKET
from runloom_runtime import egress
from runloom_runtime.egress import EgressPolicy
from tests.sandbox.conftest import LIMITS, call, output
from tests.sandbox.loopback import BIG_BODY, Echo, Seams, Web, self_signed, serving
from tests.sandbox.test_seccomp import ALLOW, EPERM, decide

pytestmark = pytest.mark.usefixtures("traffic_guard")

FETCH = """
import ssl, urllib.error, urllib.request
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
try:
    with urllib.request.urlopen(input, timeout=10, context=context) as answer:
        return {"status": answer.status, "body": answer.read().decode()}
except urllib.error.HTTPError as err:
    return {"status": err.code, "reason": err.reason, "body": err.read().decode()}
except urllib.error.URLError as err:
    return {"error": str(err.reason)}
"""


@dataclass
class Servers:
    web: Web
    echo: Echo
    tls: Web | None  # None where openssl cannot make a certificate
    tls_cert: str = ""


@pytest.fixture(scope="module")
async def servers(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Servers]:
    found = Servers(web=Web(), echo=Echo(), tls=Web())
    made = self_signed(tmp_path_factory.mktemp("tls"))
    async with AsyncExitStack() as stack:
        found.web.port = await stack.enter_async_context(serving(found.web.handle))
        found.echo.port = await stack.enter_async_context(serving(found.echo.handle))
        if made is None or found.tls is None:
            found.tls = None
        else:
            context, found.tls_cert = made
            found.tls.port = await stack.enter_async_context(serving(found.tls.handle, context))
        yield found


@pytest.fixture(scope="module")
async def open_pool(servers: Servers) -> AsyncIterator[RunnerPool]:
    """Network on, with the loopback servers listed in the allow list (with their ports)."""
    ports = [servers.web.port, servers.echo.port, *([servers.tls.port] if servers.tls else [])]
    policy = EgressPolicy(allow=tuple(f"127.0.0.1:{port}" for port in ports))
    async with RunnerPool(limits=LIMITS, size=2, warm=1, network=True, egress=policy) as pool:
        yield pool


@pytest.fixture
async def guarded() -> AsyncIterator[tuple[RunnerPool, Seams]]:
    """Network on, the default policy, names from the test resolver, no socket ever."""
    seams = Seams()
    proxy = EgressProxy(EgressPolicy(), resolver=seams.resolve, connector=seams.refuse)
    async with RunnerPool(limits=LIMITS, size=1, warm=1, network=True, egress=proxy) as pool:
        yield pool, seams


def url(port: int, path: str = "/hello", *, host: str = "127.0.0.1", tls: bool = False) -> str:
    return f"{'https' if tls else 'http'}://{host}:{port}{path}"


async def test_without_network_nothing_is_reached(runners: RunnerPool, servers: Servers) -> None:
    before = servers.web.connections
    seen = await output(runners, FETCH, args={"input": url(servers.web.port)})
    assert seen == {"error": "[Errno 1] Operation not permitted"}
    env = await output(runners, "import os\nreturn sorted(os.environ)")
    assert not {"HTTP_PROXY", "https_proxy"} & set(env)
    assert servers.web.connections == before


async def test_a_node_fetches_an_allowed_server_through_the_proxy(
    open_pool: RunnerPool, servers: Servers
) -> None:
    seen = await output(open_pool, FETCH, args={"input": url(servers.web.port, "/hello?q=1")})
    assert seen == {"status": 200, "body": "hello"}
    request = servers.web.requests[-1]
    assert request.head.startswith("GET /hello?q=1 HTTP/1.1\r\n")
    assert request.header("host") == f"127.0.0.1:{servers.web.port}"
    assert request.header("connection") == "close"
    assert "proxy-" not in request.head.lower()
    assert request.peer.startswith("('127.0.0.1'")  # the worker's proxy, on the host


async def test_bodies_go_both_ways_with_httpx(open_pool: RunnerPool, servers: Servers) -> None:
    code = (
        "import hashlib, httpx\n"
        "with httpx.Client(timeout=20) as client:\n"
        "    big = client.get(f'http://127.0.0.1:{input}/big').content\n"
        "    echoed = client.post(f'http://127.0.0.1:{input}/echo', content=b'u' * 2_000_000)\n"
        "return [len(big), hashlib.sha256(big).hexdigest(), len(echoed.content)]"
    )
    seen = await output(open_pool, code, args={"input": servers.web.port}, timeout_s=40)
    assert seen == [len(BIG_BODY), hashlib.sha256(BIG_BODY).hexdigest(), 2_000_000]


async def test_https_goes_through_a_connect_tunnel(open_pool: RunnerPool, servers: Servers) -> None:
    if servers.tls is None:
        pytest.skip("openssl could not make a test certificate")
    seen = await output(open_pool, FETCH, args={"input": url(servers.tls.port, tls=True)})
    assert seen == {"status": 200, "body": "hello"}
    code = (
        "import httpx\n"
        "return httpx.get(f'https://127.0.0.1:{input}/echo', verify=False, timeout=10).text"
    )
    assert await output(open_pool, code, args={"input": servers.tls.port}) == ""
    assert servers.tls.requests[-1].header("host") == f"127.0.0.1:{servers.tls.port}"
    verified = (
        "import ssl, urllib.request\n"
        "context = ssl.create_default_context(cadata=input['cert'])\n"
        "with urllib.request.urlopen(input['url'], timeout=10, context=context) as answer:\n"
        "    return answer.read().decode()"
    )
    args = {"cert": servers.tls_cert, "url": url(servers.tls.port, "/v", tls=True)}
    assert await output(open_pool, verified, args={"input": args}) == "hello"


async def test_the_hosts_ca_certificates_and_nothing_else_of_etc(open_pool: RunnerPool) -> None:
    code = (
        "import os, ssl\n"
        "return [ssl.create_default_context().cert_store_stats()['x509_ca'],\n"
        "        sorted(os.listdir('/etc')), os.path.exists('/etc/ssl/private')]"
    )
    count, etc, private = await output(open_pool, code)
    assert count == ssl.create_default_context().cert_store_stats()["x509_ca"]
    assert etc == (["ssl"] if trust_store() else [])
    assert private is False


async def test_a_tunnel_passes_each_sides_end(open_pool: RunnerPool, servers: Servers) -> None:
    code = (
        "import os, socket\n"
        "port = int(os.environ['HTTP_PROXY'].rsplit(':', 1)[1])\n"
        "with socket.create_connection(('127.0.0.1', port), timeout=10) as s:\n"
        "    s.sendall(f'CONNECT 127.0.0.1:{input} HTTP/1.1\\r\\n\\r\\n'.encode())\n"
        "    head = b''\n"
        "    while not head.endswith(b'\\r\\n\\r\\n'):\n"
        "        head += s.recv(1)\n"
        "    s.sendall(b'ping' * 50_000)\n"
        "    s.shutdown(socket.SHUT_WR)\n"
        "    data = b''\n"
        "    while chunk := s.recv(65536):\n"
        "        data += chunk\n"
        "return [head.decode(), data == b'echo:' + b'ping' * 50_000]"
    )
    seen = await output(open_pool, code, args={"input": servers.echo.port})
    assert seen == ["HTTP/1.1 200 Connection established\r\n\r\n", True]


async def test_proxy_settings_and_the_runner_stays_warm(open_pool: RunnerPool) -> None:
    code = "import os\nreturn {k: v for k, v in os.environ.items() if 'proxy' in k.lower()}"
    first = await call(open_pool, code)
    second = await call(open_pool, code)
    assert first.ok and second.ok, first.error_message
    proxy = first.output["HTTP_PROXY"]
    assert proxy.startswith("http://127.0.0.1:")
    assert first.output == {
        "HTTP_PROXY": proxy,
        "HTTPS_PROXY": proxy,
        "http_proxy": proxy,
        "https_proxy": proxy,
        "NO_PROXY": "",
        "no_proxy": "",
    }
    assert first.runner_pid == second.runner_pid  # the relay thread is the runner's own
    code = "import threading, time\nthreading.Thread(target=time.sleep, args=(5,)).start()"
    left = await call(open_pool, code)
    assert left.ok and left.runner_pid not in open_pool.runner_pids()  # a user's thread


async def test_the_default_policy_refuses_loopback(
    servers: Servers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(egress, "_policy", EgressPolicy())  # what current() returns
    before = servers.web.connections
    async with RunnerPool(limits=LIMITS, size=1, warm=1, network=True) as pool:
        seen = await output(pool, FETCH, args={"input": url(servers.web.port)})
        tunnel = await output(pool, FETCH, args={"input": "https://127.0.0.1/"})
    message = (
        f"http node may not reach 127.0.0.1:{servers.web.port} (loopback): only public "
        "addresses are allowed by default; list it in RUNLOOM_EGRESS_ALLOW to allow it"
    )
    assert seen == {
        "status": 403,
        "reason": f"runloom egress: {message}",
        "body": f"runloom egress: {message}\n",
    }
    assert tunnel == {
        "error": "Tunnel connection failed: 403 runloom egress: http node may not reach "
        "127.0.0.1:443 (loopback): only public addresses are allowed by default; list it "
        "in RUNLOOM_EGRESS_ALLOW to allow it"
    }
    assert servers.web.connections == before


async def test_a_name_resolving_to_loopback_is_refused(
    guarded: tuple[RunnerPool, Seams], servers: Servers
) -> None:
    pool, seams = guarded
    before = servers.web.connections
    seen = await output(pool, FETCH, args={"input": url(servers.web.port, host="db.internal")})
    assert seen["status"] == 403
    assert f"db.internal:{servers.web.port} (address 127.0.0.1) (loopback)" in seen["reason"]
    assert seams.lookups == [("db.internal", servers.web.port)]  # once, then checked
    assert seams.connects == []
    assert servers.web.connections == before


@pytest.mark.parametrize(
    ("target", "fragment"),
    [
        ("http://10.1.2.3/", "10.1.2.3:80 (private)"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254:80 (link-local)"),
        ("https://10.1.2.3/", "10.1.2.3:443 (private)"),
        ("https://169.254.169.254/", "169.254.169.254:443 (link-local)"),
        ("http://[fd00::1]:8080/", "[fd00::1]:8080 (unique-local)"),
        ("http://[::ffff:10.1.2.3]/", "[::ffff:10.1.2.3]:80 (private)"),
        ("http://metadata.internal/", "(address 169.254.169.254) (link-local)"),
        ("https://mixed.example.com/", "(address 10.1.2.3) (private)"),
    ],
)
async def test_private_and_link_local_addresses_are_refused_before_any_socket(
    guarded: tuple[RunnerPool, Seams], target: str, fragment: str
) -> None:
    pool, seams = guarded
    seen = await output(pool, FETCH, args={"input": target})
    text = seen.get("reason") or seen.get("error") or ""
    assert "403 " in text or seen.get("status") == 403, seen
    assert fragment in text and "only public addresses are allowed by default" in text
    assert seams.connects == []


async def test_the_proxy_socket_answers_the_same_when_used_directly(
    guarded: tuple[RunnerPool, Seams],
) -> None:
    pool, seams = guarded
    code = (
        "import socket\n"
        "with socket.socket(socket.AF_UNIX) as s:\n"
        "    s.connect(input)\n"
        "    s.sendall(b'CONNECT 10.1.2.3:443 HTTP/1.1\\r\\n\\r\\n')\n"
        "    return s.recv(200).decode()"
    )
    answer = await output(pool, code, args={"input": JAIL_EGRESS_SOCKET})
    assert answer.startswith("HTTP/1.1 403 runloom egress: http node may not reach 10.1.2.3")
    assert seams.connects == []


RAW = """
import socket
found = {}
try:
    socket.create_connection(("127.0.0.1", input), timeout=2)
    found["tcp"] = "connected"
except OSError as err:
    found["tcp"] = type(err).__name__
kinds = {
    "raw": (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP),
    "packet": (socket.AF_PACKET, socket.SOCK_RAW, 0),
    "netlink": (socket.AF_NETLINK, socket.SOCK_RAW, 0),
}
for name, args in kinds.items():
    try:
        socket.socket(*args).close()
        found[name] = "opened"
    except OSError as err:
        found[name] = type(err).__name__
with open("/proc/net/dev") as f:
    found["interfaces"] = [line.split(":")[0].strip() for line in f if ":" in line]
return found
"""


async def test_a_raw_connection_stays_on_the_jails_own_loopback(
    open_pool: RunnerPool, servers: Servers
) -> None:
    before = servers.web.connections
    found = await output(open_pool, RAW, args={"input": servers.web.port})
    assert found == {
        "tcp": "ConnectionRefusedError",  # nothing listens there on the jail's loopback
        "raw": "PermissionError",
        "packet": "PermissionError",
        "netlink": "PermissionError",
        "interfaces": ["lo"],
    }
    assert servers.web.connections == before


async def test_the_socket_directory_is_private(open_pool: RunnerPool) -> None:
    proxy = open_pool.egress_proxy
    assert proxy is not None
    directory = proxy.path.parent
    info = directory.stat()
    assert stat.S_IMODE(info.st_mode) == 0o700
    assert info.st_uid == os.geteuid()
    assert stat.S_ISSOCK(proxy.path.stat().st_mode)
    if os.geteuid() == 0:  # another user (the runners' own host id) cannot even see it
        done = await asyncio.create_subprocess_exec(
            "stat", str(proxy.path), user=RUNNER_HOST_ID, stderr=asyncio.subprocess.PIPE
        )
        _, stderr = await done.communicate()
        assert done.returncode != 0
        assert b"Permission denied" in stderr


async def test_closing_the_pool_removes_the_socket_directory() -> None:
    pool = RunnerPool(limits=LIMITS, size=1, warm=0, network=True, egress=EgressPolicy())
    assert pool.egress_proxy is not None
    await pool.start()
    directory = pool.egress_proxy.path.parent
    assert directory.is_dir()
    await pool.close()
    assert not directory.exists()


def test_without_network_the_jail_is_as_before() -> None:
    jail = Jail(limits=LIMITS, isolation="on", site_packages=venv_site_packages())
    hello = jail.hello()
    assert hello["network"] is None
    command = jail.command(info_fd=5, block_fd=6)
    assert "--bind" not in command and JAIL_EGRESS_SOCKET not in command
    assert RunnerPool(limits=LIMITS).egress_proxy is None
    with pytest.raises(ValueError, match="network=True"):
        RunnerPool(egress=EgressPolicy())


def test_with_network_the_socket_is_bound_and_inet_sockets_allowed(tmp_path: Path) -> None:
    socket_path = tmp_path / "egress.sock"
    jail = Jail(limits=LIMITS, isolation="on", site_packages=None, egress_socket=socket_path)
    command = jail.command(info_fd=5, block_fd=6)
    at = command.index("--bind")
    assert command[at : at + 3] == ["--bind", str(socket_path), JAIL_EGRESS_SOCKET]
    for path in trust_store():  # read-only, and outside /usr (bound whole already)
        assert command[command.index(str(path)) - 1] == "--ro-bind"
        assert not path.is_relative_to("/usr")
    hello = jail.hello()
    assert hello["network"]["socket"] == JAIL_EGRESS_SOCKET
    program = bytes.fromhex(hello["seccomp"])
    from runloom.sandbox import seccomp

    arch = seccomp.host_arch()
    socket_nr = arch.numbers["socket"]

    def socket_call(family: int, kind: int) -> Any:
        return decide(program, arch=arch.audit, nr=socket_nr, args=(family, kind))

    assert socket_call(2, 1) == ALLOW and socket_call(10, 1) == ALLOW  # IPv4, IPv6
    assert socket_call(1, 1) == ALLOW  # AF_UNIX
    assert socket_call(2, 3) == EPERM  # raw
    assert socket_call(17, 3) == EPERM and socket_call(16, 2) == EPERM  # packet, netlink


async def test_isolation_off_uses_the_proxy_too(
    servers: Servers, caplog: pytest.LogCaptureFixture
) -> None:
    policy = EgressPolicy(allow=(f"127.0.0.1:{servers.web.port}",))
    caplog.set_level(logging.WARNING, logger="runloom.sandbox.pool")
    pool = RunnerPool(limits=LIMITS, size=1, warm=1, isolation="off", network=True, egress=policy)
    async with pool:
        seen = await output(pool, FETCH, args={"input": url(servers.web.port, "/off")})
        refused = await output(pool, FETCH, args={"input": url(servers.echo.port)})
    assert seen == {"status": 200, "body": "hello"}
    assert refused["status"] == 403  # urllib went through the proxy, which decided
    assert servers.web.requests[-1].head.startswith("GET /off HTTP/1.1")
    assert "nothing keeps their code from going around" in caplog.text
