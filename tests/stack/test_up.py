"""`runloom up` as a person runs it: a real subprocess, real services, real signals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from runloom.stack.ports import free_port


def _env(data_dir: Path, ports: dict[str, int]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "TEMPORAL_"))}
    env.update(
        RUNLOOM_DATA_DIR=str(data_dir),
        RUNLOOM_PORT=str(ports["api"]),
        RUNLOOM_PG_PORT=str(ports["pg"]),
        TEMPORAL_ADDRESS=f"localhost:{ports['temporal']}",
        TEMPORAL_UI_URL=f"http://localhost:{ports['ui']}",
    )
    return env


def _start(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "runloom.cli", "up"],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_healthy(port: int, process: subprocess.Popen[str], timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"runloom up exited: {process.stdout.read() if process.stdout else ''}"
            )
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("runloom up did not become healthy")


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=60)
    return out


@pytest.fixture
def ports() -> dict[str, int]:
    return {name: free_port() for name in ("api", "pg", "temporal", "ui")}


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "data"


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_up_serves_health_and_the_temporal_ui_and_keeps_data_across_restarts(
    ports: dict[str, int], data_dir: Path, tmp_path: Path
) -> None:
    env = _env(data_dir, ports)
    process = _start(env, tmp_path)
    try:
        health = _wait_healthy(ports["api"], process)
        assert health.json() == {"database": "ok", "temporal": "ok", "detail": None}
        assert httpx.get(f"http://127.0.0.1:{ports['ui']}/", timeout=5).status_code == 200
        url = f"postgresql://postgres@127.0.0.1:{ports['pg']}/runloom"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO users (email) VALUES ('kept@example.test')")
    finally:
        out = _stop(process)
    assert process.returncode == 0, out
    assert "runloom is up" in out and "stopped" in out
    # Everything it started is gone.
    for name in ("api", "pg", "temporal", "ui"):
        assert not _port_open(ports[name]), name

    process = _start(env, tmp_path)
    try:
        _wait_healthy(ports["api"], process)
        with psycopg.connect(url) as conn:
            assert conn.execute(
                "SELECT count(*) FROM users WHERE email = 'kept@example.test'"
            ).fetchone() == (1,)
    finally:
        out = _stop(process)
    assert "0 applied" in out  # nothing to migrate the second time


def test_a_port_held_by_another_program_is_named_in_one_line(
    ports: dict[str, int], data_dir: Path, tmp_path: Path
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", ports["pg"]))
        holder.listen()
        process = _start(_env(data_dir, ports), tmp_path)
        out, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    assert f"port {ports['pg']}" in out and "RUNLOOM_PG_PORT" in out
    assert "Traceback" not in out
