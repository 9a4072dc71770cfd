"""`runloom up` as a person runs it: a real subprocess, real services, real signals."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import psycopg
import pytest

from runloom.stack.ports import free_port
from runloom.stack.postgres import EmbeddedPostgres
from tests.live import LiveStack, up_env


def _stack(tmp_path: Path, ports: dict[str, int]) -> LiveStack:
    env = up_env(
        RUNLOOM_DATA_DIR=str(tmp_path / "data"),
        RUNLOOM_PORT=str(ports["api"]),
        RUNLOOM_PG_PORT=str(ports["pg"]),
        TEMPORAL_ADDRESS=f"localhost:{ports['temporal']}",
        TEMPORAL_UI_URL=f"http://localhost:{ports['ui']}",
    )
    return LiveStack(env=env, port=ports["api"], cwd=tmp_path)


@pytest.fixture
def ports() -> dict[str, int]:
    return {name: free_port() for name in ("api", "pg", "temporal", "ui")}


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_up_serves_health_and_the_temporal_ui_and_keeps_data_across_restarts(
    ports: dict[str, int], tmp_path: Path
) -> None:
    stack = _stack(tmp_path, ports)
    stack.start()
    # The embedded server takes a password now; `up` keeps it beside its data.
    url = EmbeddedPostgres(tmp_path / "data" / "postgres", ports["pg"]).url
    try:
        health = httpx.get(f"{stack.url}/api/health", timeout=5)
        assert health.json() == {"database": "ok", "temporal": "ok", "detail": None}
        assert httpx.get(f"http://127.0.0.1:{ports['ui']}/", timeout=5).status_code == 200
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO users (email) VALUES ('kept@example.test')")
    finally:
        code = stack.stop()
    assert code == 0, stack.log
    assert "runloom is up" in stack.log and "stopped" in stack.log
    # Everything it started is gone.
    for name in ("api", "pg", "temporal", "ui"):
        assert not _port_open(ports[name]), name

    stack.start()
    try:
        with psycopg.connect(url) as conn:
            kept = conn.execute("SELECT count(*) FROM users WHERE email = 'kept@example.test'")
            assert kept.fetchone() == (1,)
    finally:
        stack.stop()
    assert "0 applied" in stack.log  # nothing to migrate the second time


def test_a_port_held_by_another_program_is_named_in_one_line(
    ports: dict[str, int], tmp_path: Path
) -> None:
    stack = _stack(tmp_path, ports)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", ports["pg"]))
        holder.listen()
        with pytest.raises(RuntimeError, match="exited with 1"):
            stack.start()
    assert f"port {ports['pg']}" in stack.log and "RUNLOOM_PG_PORT" in stack.log
    assert "Traceback" not in stack.log
