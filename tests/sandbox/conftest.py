"""Runner pools, a canary and a loopback listener for the attacker-minded sandbox tests."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest

from runloom.sandbox import CallResult, RunnerPool, SandboxLimits, probe
from tests.sandbox.loopback import guard_traffic

CHECKOUT = Path(__file__).resolve().parents[2]
LIMITS = SandboxLimits(cpu_s=30, memory_mb=256, max_processes=32, file_size_mb=8)
CANARY_NAME = "RUNLOOM_SANDBOX_CANARY"


@dataclass(frozen=True)
class Canary:
    """A host process whose environment holds a value nothing else holds (as a worker's
    holds DATABASE_URL); /proc/<pid>/environ shows a process's environment as started."""

    value: str
    pid: int


@pytest.fixture(scope="session")
def canary() -> Iterator[Canary]:
    value = f"canary-{uuid.uuid4().hex}"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(3600)"],
        env={CANARY_NAME: value},
    )
    try:
        yield Canary(value=value, pid=holder.pid)
    finally:
        holder.kill()
        holder.wait()


@pytest.fixture(scope="session")
async def runners(canary: Canary) -> AsyncIterator[RunnerPool]:
    """The pool under attack: real bubblewrap jails, as a worker would run them."""
    if (reason := probe()) is not None:
        pytest.fail(f"the sandbox tests need bubblewrap with user namespaces: {reason}")
    pool = RunnerPool(limits=LIMITS, size=4, warm=1, isolation="on")
    await pool.start()
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture(scope="session")
async def unjailed(canary: Canary) -> AsyncIterator[RunnerPool]:
    """Isolation "off": the control group, where the same attacks must succeed."""
    pool = RunnerPool(limits=LIMITS, size=2, warm=1, isolation="off")
    await pool.start()
    try:
        yield pool
    finally:
        await pool.close()


async def call(pool: RunnerPool, code: str, **kwargs: Any) -> CallResult:
    kwargs.setdefault("timeout_s", 20)
    kwargs.setdefault("args", {})
    return await pool.call(code=code, node_id=kwargs.pop("node_id", "attack"), **kwargs)


async def output(pool: RunnerPool, code: str, **kwargs: Any) -> Any:
    """The node's output; fails the test with the node's error if it raised."""
    result = await call(pool, code, **kwargs)
    assert result.ok, f"{result.error_message}\n{result.traceback}"
    return result.output


@dataclass
class Listener:
    port: int
    connections: list[str] = field(default_factory=list)


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    """A TCP server on this host's loopback that records whoever connects."""
    found = Listener(port=0)

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        found.connections.append(str(writer.get_extra_info("peername")))
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    found.port = server.sockets[0].getsockname()[1]
    try:
        yield found
    finally:
        server.close()
        await server.wait_closed()


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def gone(process: psutil.Process) -> bool:
    """Ended (a zombie waiting for its reaper uses no CPU and counts as ended)."""
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def wait_all_gone(processes: list[psutil.Process], within_s: float = 3.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if all(gone(p) for p in processes):
            return True
        await asyncio.sleep(0.02)
    return all(gone(p) for p in processes)


@pytest.fixture
def traffic_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Stops and lists any connection beyond loopback and any name lookup of the test
    process (the worker's side of the proxy runs here); the test fails if one was tried."""
    violations = guard_traffic(monkeypatch)
    yield violations
    assert violations == [], f"traffic beyond loopback was attempted: {violations}"
