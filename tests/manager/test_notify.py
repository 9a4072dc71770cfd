"""Failure notices: the attacker's side first (a webhook aimed at runloom's own services,
the metadata service or loopback is refused before any socket opens), then delivery
(retries, backoff, timeouts) and the notifier the tracker calls.

Real requests go only to servers on 127.0.0.1 that the test runs; anything else meets a
fake resolver and a network backend that fails the test if a socket would open.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpcore
import psycopg
import pytest

from runloom.db.pool import Pool
from runloom.db.session import service_session
from runloom.manager.app import platform_egress
from runloom.manager.notify import (
    Delivery,
    FailureNotifier,
    NoticeFailedError,
    NoticeRefusedError,
    deliver,
    notice,
    public_base,
    shown,
)
from runloom.services.outcome import Outcome
from runloom.settings import Settings
from runloom.store.executions import FinishedRun
from runloom_runtime.egress import EgressPolicy, Resolver
from tests.echo_server import EchoServer
from tests.factory import make_project, make_workflow

API_PORT = 8000
PG_PORT = 54329
DATABASE_URL = f"postgresql://runloom:secret@127.0.0.1:{PG_PORT}/runloom"
PAYLOAD = {"event": "run.failed", "execution_id": "e"}


def _settings(**values: Any) -> Settings:
    base: dict[str, Any] = {
        "_env_file": None,
        "runloom_host": "127.0.0.1",
        "runloom_port": API_PORT,
        "temporal_address": "localhost:7233",
        "temporal_ui_url": "http://localhost:8233",
        "runloom_egress_allow": "",
        "runloom_public_url": None,
    }
    return Settings(**{**base, **values})


class NoSockets(httpcore.AsyncNetworkBackend):
    """The backend under the guard: records, and fails, any attempt to open a socket."""

    def __init__(self) -> None:
        self.connects: list[tuple[str, int]] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connects.append((host, port))
        raise AssertionError(f"a socket to {host}:{port} would have opened")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AssertionError("a unix socket would have opened")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def _resolver(names: Mapping[str, Sequence[str]]) -> Resolver:
    """IP literals as they are, the names given, nothing else (no real DNS)."""

    async def resolve(host: str, port: int) -> Sequence[str]:
        try:
            return (str(ipaddress.ip_address(host)),)
        except ValueError:
            pass
        if host in names:
            return tuple(names[host])
        raise OSError(f"{host} does not resolve in this test")

    return resolve


RESOLVER = _resolver(
    {"localhost": ["127.0.0.1"], "hooks.attacker.test": ["127.0.0.1"], "public.test": ["8.8.8.8"]}
)


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything connects to, or resolves, a non-loopback address."""
    connect, getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def loopback(host: Any) -> bool:
        try:
            return ipaddress.ip_address(str(host).partition("%")[0]).is_loopback
        except ValueError:
            return host in ("localhost", None)

    def guarded_connect(self: socket.socket, address: Any) -> None:
        if isinstance(address, tuple) and not loopback(address[0]):
            raise AssertionError(f"a test tried to connect to {address!r}")
        connect(self, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not loopback(host.decode() if isinstance(host, bytes) else host):
            raise AssertionError(f"a test tried to resolve {host!r}")
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)


# --- the attacker's side ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (f"http://127.0.0.1:{API_PORT}/api/auth/signup", "platform address"),
        (f"http://127.0.0.1:{PG_PORT}/", "platform address"),
        ("http://localhost:7233/", "platform address"),  # Temporal, by its own name
        ("http://localhost:8233/namespaces", "platform address"),  # Temporal's Web UI
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://hooks.attacker.test:9999/hook", "loopback"),  # a name for 127.0.0.1
        ("http://127.0.0.1:9999/", "loopback"),
        ("http://[::ffff:127.0.0.1]:9999/", "loopback"),
        ("http://10.1.2.3/", "private"),
        ("http://0.0.0.0:9999/", "unspecified"),
    ],
)
async def test_a_webhook_at_the_platform_or_a_private_address_is_refused_before_connecting(
    url: str, reason: str
) -> None:
    backend = NoSockets()
    policy = platform_egress(_settings(), database_url=DATABASE_URL)
    delivery = Delivery(resolver=RESOLVER, network_backend=backend, backoff_s=0)
    with pytest.raises(NoticeRefusedError, match=f"\\({reason}\\)"):
        await deliver(url, PAYLOAD, policy=policy, delivery=delivery)
    assert backend.connects == []


async def test_a_broad_allow_entry_does_not_open_the_platforms_own_ports() -> None:
    # The operator lets http nodes reach loopback (say, for a local service): runloom's
    # own API and Postgres stay closed unless an entry names their port.
    backend = NoSockets()
    policy = platform_egress(
        _settings(runloom_egress_allow="127.0.0.0/8"), database_url=DATABASE_URL
    )
    delivery = Delivery(resolver=RESOLVER, network_backend=backend)
    for port in (API_PORT, PG_PORT):
        with pytest.raises(NoticeRefusedError, match="platform address"):
            await deliver(f"http://127.0.0.1:{port}/", PAYLOAD, policy=policy, delivery=delivery)
    assert backend.connects == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.test/", "not a url"])
async def test_only_http_urls_are_sent(url: str) -> None:
    backend = NoSockets()
    policy = platform_egress(_settings(), database_url=DATABASE_URL)
    delivery = Delivery(resolver=RESOLVER, network_backend=backend)
    with pytest.raises(NoticeRefusedError):
        await deliver(url, PAYLOAD, policy=policy, delivery=delivery)
    assert backend.connects == []


# --- delivery to a loopback server the policy allows --------------------------------------


class Scripted:
    """A loopback HTTP server answering the statuses given, in order (then 200), after
    ``delay_s``; it keeps every request's path, headers and body."""

    def __init__(self, statuses: Sequence[int] = (), *, delay_s: float = 0.0) -> None:
        self.statuses = list(statuses)
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                outer.requests.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    }
                )
                time.sleep(delay_s)
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                if status in (301, 302):
                    self.send_header("location", "http://169.254.169.254/latest/meta-data/")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's)
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/failed?token=s3cret"

    def policy(self) -> EgressPolicy:
        allow = f"127.0.0.1:{self.port}"
        return platform_egress(_settings(runloom_egress_allow=allow), database_url=DATABASE_URL)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def scripted() -> Iterator[list[Scripted]]:
    servers: list[Scripted] = []
    yield servers
    for server in servers:
        server.close()


def _serve(servers: list[Scripted], *statuses: int, delay_s: float = 0.0) -> Scripted:
    server = Scripted(statuses, delay_s=delay_s)
    servers.append(server)
    return server


FAST = Delivery(timeout_s=2, attempts=3, backoff_s=0.01)


async def test_a_notice_is_posted_as_json(scripted: list[Scripted]) -> None:
    server = _serve(scripted)
    assert await deliver(server.url, PAYLOAD, policy=server.policy(), delivery=FAST) == 1
    (request,) = server.requests
    assert request["path"] == "/hooks/failed?token=s3cret"
    assert json.loads(request["body"]) == PAYLOAD
    assert request["headers"]["content-type"] == "application/json"
    assert request["headers"]["x-runloom-event"] == "run.failed"


async def test_server_errors_are_retried_with_backoff(scripted: list[Scripted]) -> None:
    server = _serve(scripted, 500, 503)
    delivery = Delivery(timeout_s=2, attempts=3, backoff_s=0.2)
    started = time.monotonic()
    assert await deliver(server.url, PAYLOAD, policy=server.policy(), delivery=delivery) == 3
    assert time.monotonic() - started >= 0.2 + 0.4  # waited, and longer the second time
    assert len(server.requests) == 3


async def test_too_many_requests_is_retried_but_a_refusal_is_not(scripted: list[Scripted]) -> None:
    busy = _serve(scripted, 429)
    assert await deliver(busy.url, PAYLOAD, policy=busy.policy(), delivery=FAST) == 2
    gone = _serve(scripted, 404)
    with pytest.raises(NoticeFailedError, match="answered HTTP 404"):
        await deliver(gone.url, PAYLOAD, policy=gone.policy(), delivery=FAST)
    assert len(gone.requests) == 1


async def test_every_attempt_failing_gives_up(scripted: list[Scripted]) -> None:
    server = _serve(scripted, 500, 500, 500, 500)
    with pytest.raises(NoticeFailedError, match="answered HTTP 500"):
        await deliver(server.url, PAYLOAD, policy=server.policy(), delivery=FAST)
    assert len(server.requests) == 3


async def test_redirects_are_not_followed(scripted: list[Scripted]) -> None:
    server = _serve(scripted, 302)  # to the metadata service
    with pytest.raises(NoticeFailedError, match="answered HTTP 302"):
        await deliver(server.url, PAYLOAD, policy=server.policy(), delivery=FAST)
    assert len(server.requests) == 1


async def test_a_server_that_never_answers_costs_attempts_times_the_timeout(
    scripted: list[Scripted],
) -> None:
    server = _serve(scripted, delay_s=3)
    delivery = Delivery(timeout_s=0.3, attempts=2, backoff_s=0.01)
    started = time.monotonic()
    with pytest.raises(NoticeFailedError, match="ReadTimeout"):
        await deliver(server.url, PAYLOAD, policy=server.policy(), delivery=delivery)
    assert time.monotonic() - started < 2


# --- what a notice says ------------------------------------------------------------------


def _finished() -> FinishedRun:
    return FinishedRun(
        id=uuid.uuid4(), workflow_id=uuid.uuid4(), project_id=uuid.uuid4(), code_version=1
    )


def test_the_notice_links_to_the_run_in_the_ui() -> None:
    run = _finished()
    body = notice(
        run,
        Outcome("timed_out", None, "x" * 5000),
        workflow_name="orders",
        base="https://r.example",
    )
    assert body == {
        "event": "run.failed",
        "execution_id": str(run.id),
        "workflow_id": str(run.workflow_id),
        "workflow_name": "orders",
        "project_id": str(run.project_id),
        "status": "timed_out",
        "error": "x" * 4000 + "…",
        "url": f"https://r.example/workflows/{run.workflow_id}?run={run.id}",
    }


def test_public_base() -> None:
    assert public_base(_settings()) == f"http://127.0.0.1:{API_PORT}"
    assert public_base(_settings(runloom_public_url="https://r.example/")) == "https://r.example"
    assert public_base(_settings(runloom_host="::1")) == f"http://[::1]:{API_PORT}"


def test_logs_show_no_path_or_query() -> None:
    assert shown("https://hooks.example/T0/B1/secret?x=1") == "https://hooks.example"


# --- the notifier the tracker calls ------------------------------------------------------


@pytest.fixture
async def echo() -> AsyncIterator[EchoServer]:
    server = EchoServer().start()
    try:
        yield server
    finally:
        server.stop()


async def _project_with_webhook(pool: Pool, url: str | None) -> FinishedRun:
    project = await make_project(pool)
    workflow_id = await make_workflow(pool, project, {"nodes": [], "edges": []})
    async with service_session(pool) as conn:
        await conn.execute(
            "UPDATE public.projects SET failure_webhook_url = %s WHERE id = %s", (url, project.id)
        )
    return FinishedRun(
        id=uuid.uuid4(), workflow_id=workflow_id, project_id=project.id, code_version=1
    )


def _notifier(pool: Pool, echo: EchoServer, **delivery: Any) -> FailureNotifier:
    allow = f"127.0.0.1:{echo.port}"
    policy = platform_egress(_settings(runloom_egress_allow=allow), database_url=DATABASE_URL)
    return FailureNotifier(
        pool=pool, policy=policy, base="https://r.example", delivery=Delivery(**delivery)
    )


async def _until_idle(notifier: FailureNotifier) -> None:
    for _ in range(200):
        if notifier.pending == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("notices still pending")


async def test_failed_and_timed_out_runs_are_announced_and_no_others(
    pool: Pool, echo: EchoServer
) -> None:
    run = await _project_with_webhook(pool, f"{echo.url}/hook")
    notifier = _notifier(pool, echo)
    for status in ("completed", "cancelled", "terminated"):
        notifier.run_ended(run, Outcome(status, None, None))  # type: ignore[arg-type]
    assert notifier.pending == 0
    notifier.run_ended(run, Outcome("failed", None, "boom"))
    notifier.run_ended(run, Outcome("timed_out", None, "workflow timed out"))
    await _until_idle(notifier)
    bodies = sorted((json.loads(r["body"]) for r in echo.requests), key=lambda b: b["status"])
    assert [(b["status"], b["error"]) for b in bodies] == [
        ("failed", "boom"),
        ("timed_out", "workflow timed out"),
    ]
    assert bodies[0]["workflow_name"].startswith("wf ")
    assert bodies[0]["url"] == f"https://r.example/workflows/{run.workflow_id}?run={run.id}"


async def test_a_project_without_a_webhook_sends_nothing(pool: Pool, echo: EchoServer) -> None:
    run = await _project_with_webhook(pool, None)
    notifier = _notifier(pool, echo)
    notifier.run_ended(run, Outcome("failed", None, "boom"))
    await _until_idle(notifier)
    assert echo.requests == []


async def test_the_queue_is_bounded_and_the_caller_never_waits(
    pool: Pool, scripted: list[Scripted]
) -> None:
    slow = _serve(scripted, delay_s=1)
    run = await _project_with_webhook(pool, slow.url)
    notifier = FailureNotifier(
        pool=pool,
        policy=slow.policy(),
        base="https://r.example",
        delivery=Delivery(max_pending=2, concurrency=1, timeout_s=5),
    )
    started = time.monotonic()
    for _ in range(5):
        notifier.run_ended(run, Outcome("failed", None, "boom"))
    assert time.monotonic() - started < 0.1
    assert notifier.pending == 2  # the other three were dropped
    stop = asyncio.Event()
    stop.set()
    await notifier.run(stop, grace_s=0.2)  # shutting down gives up on what is left
    assert notifier.pending == 0


async def test_the_database_keeps_only_http_urls(pool: Pool) -> None:
    project = await make_project(pool)
    for bad in ("ftp://example.test/", "https://" + "a" * 2050, "javascript:alert(1)"):
        with pytest.raises(psycopg.errors.CheckViolation):
            async with service_session(pool) as conn:
                await conn.execute(
                    "UPDATE public.projects SET failure_webhook_url = %s WHERE id = %s",
                    (bad, project.id),
                )
