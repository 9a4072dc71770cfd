"""`up`'s manager child: restarted when it dies, stopped (SIGTERM, then waited for) on
request. A real child process, with small commands in place of the manager."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from runloom.stack.manager_process import ManagerProcess, ManagerRestarts, manager_environment


async def _until(appears: Path, *, chars: int = 0) -> None:
    """Until ``appears`` exists with at least ``chars`` characters (written by a child)."""

    def written() -> bool:
        return appears.exists() and len(appears.read_text()) >= chars

    async with asyncio.timeout(60):
        while not written():  # noqa: ASYNC110 (another process writes it)
            await asyncio.sleep(0.01)


_QUICK = ManagerRestarts(first_s=0.01, max_s=0.02, healthy_s=60)


def _python(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


async def test_a_manager_that_dies_is_restarted_and_the_restart_is_reported(
    tmp_path: Path,
) -> None:
    spawns = tmp_path / "spawns"
    lines: list[str] = []
    manager = ManagerProcess(
        env={},
        report=lines.append,
        restarts=_QUICK,
        command=_python(f"open({str(spawns)!r}, 'a').write('x'); raise SystemExit(3)"),
    )
    running = asyncio.create_task(manager.run())
    await _until(spawns, chars=3)
    manager.stop()
    await running
    assert lines[0] == "the manager process exited with 3; restarting it in 0 s"


async def test_stop_sends_sigterm_and_waits_for_the_manager_to_finish(tmp_path: Path) -> None:
    ready, done = tmp_path / "ready", tmp_path / "done"
    code = (
        "import signal, sys, time\n"
        f"def bye(*_):\n    open({str(done)!r}, 'w').write('stopped')\n    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, bye)\n"
        f"open({str(ready)!r}, 'w').write('')\n"
        "time.sleep(60)\n"
    )
    lines: list[str] = []
    manager = ManagerProcess(env={}, report=lines.append, command=_python(code))
    running = asyncio.create_task(manager.run())
    await _until(ready)
    manager.stop()
    assert await running == 0
    assert done.read_text() == "stopped"
    assert lines == []  # a requested stop is no crash


async def test_a_manager_that_ignores_sigterm_is_killed_after_the_timeout(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    code = (
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"open({str(ready)!r}, 'w').write('')\n"
        "time.sleep(60)\n"
    )
    lines: list[str] = []
    manager = ManagerProcess(env={}, report=lines.append, stop_timeout_s=0.2, command=_python(code))
    running = asyncio.create_task(manager.run())
    await _until(ready)
    manager.stop()
    assert await running == -9
    assert lines == ["the manager did not stop in time; killing it"]


def test_backoff_doubles_up_to_its_limit_and_starts_over_after_a_healthy_run() -> None:
    policy = ManagerRestarts(first_s=1, max_s=4, healthy_s=60)
    assert policy.next_delay(None, ran_s=0) == 1
    assert policy.next_delay(1, ran_s=0) == 2
    assert policy.next_delay(4, ran_s=0) == 4
    assert policy.next_delay(4, ran_s=61) == 1


def test_the_child_gets_the_services_of_up_and_keeps_the_rest() -> None:
    env = manager_environment(
        {"RUNLOOM_SECRETS_KEY": "k", "DATABASE_URL": "old"},
        database_url="postgresql://db",
        temporal_address="127.0.0.1:7233",
        data_dir="/data",
    )
    assert env == {
        "RUNLOOM_SECRETS_KEY": "k",
        "DATABASE_URL": "postgresql://db",
        "TEMPORAL_ADDRESS": "127.0.0.1:7233",
        "RUNLOOM_DATA_DIR": "/data",
    }
