"""The supervisor of one worker process, against a fake worker: no Temporal, no database."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import psutil
import pytest

from runloom.manager.supervisor import SecretsReader, Supervisor, WorkerError, WorkerStartError
from runloom.worker import protocol

pytestmark = pytest.mark.timeout(30)

ROOT = Path(__file__).resolve().parents[2]


def start_message(mode: str) -> protocol.Start:
    return protocol.Start(
        task_queue=mode,
        temporal_address="unused:1",
        temporal_namespace="default",
        identity="fake",
        heartbeat_s=1.0,
        graceful_shutdown_s=1.0,
        bundle=(),
    )


async def supervise(
    mode: str, *, secrets: SecretsReader | None = None
) -> tuple[Supervisor, list[protocol.Ready | protocol.Heartbeat]]:
    seen: list[protocol.Ready | protocol.Heartbeat] = []

    async def record(message: protocol.Ready | protocol.Heartbeat) -> None:
        seen.append(message)

    supervisor = Supervisor(
        name=f"fake-{mode}",
        command=[sys.executable, "-m", "tests.manager.fake_worker"],
        env={"PATH": os.defpath, "PYTHONPATH": f"{ROOT}:{ROOT / 'src'}"},
        on_message=record,
        graceful_shutdown_s=1.0,
        secrets=secrets,
    )
    await supervisor.spawn(start_message(mode))
    return supervisor, seen


async def test_ready_heartbeat_reload_and_stop() -> None:
    supervisor, seen = await supervise("serve")
    ready = await supervisor.wait_ready(10)
    assert ready.pid == supervisor.pid and ready.loaded == ("w@v1",)
    entry = protocol.BundleEntry("good", "w@v2", 2, "", "")
    assert (await supervisor.reload((entry,), timeout_s=5)).loaded == ("w@v2",)
    with pytest.raises(WorkerError, match="could not load the new code: SyntaxError: bad code"):
        await supervisor.reload((protocol.BundleEntry("bad", "w@v3", 3, "", ""),), timeout_s=5)
    info = await supervisor.stop()
    assert info.code == 0 and info.tasks == (4, 1)
    assert "a line on stderr" in info.stderr_tail
    assert [type(m) for m in seen] == [protocol.Ready, protocol.Heartbeat]
    assert isinstance(seen[1], protocol.Heartbeat) and seen[1].avg_task_ms == 7


async def test_a_crash_is_reported_with_the_workers_own_words() -> None:
    supervisor, _ = await supervise("crash")
    await supervisor.wait_ready(10)
    info = await supervisor.exited()
    assert info.code == 3 and info.error == "the fake worker crashed on purpose"


async def test_stop_kills_a_worker_that_ignores_sigterm_and_its_children() -> None:
    supervisor, _ = await supervise("hang")
    await supervisor.wait_ready(10)
    info = await supervisor.stop()
    assert info.code == -9

    supervisor, _ = await supervise("child")
    await supervisor.wait_ready(10)
    assert supervisor.pid is not None
    children = psutil.Process(supervisor.pid).children()
    assert children, "the fake worker started a grandchild"
    await supervisor.stop()
    await asyncio.sleep(0.2)
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]


async def test_a_worker_that_never_says_ready_is_killed() -> None:
    supervisor = Supervisor(
        name="silent",
        command=[sys.executable, "-c", "import time; time.sleep(60)"],
        env={"PATH": os.defpath},
        on_message=lambda message: asyncio.sleep(0),
    )
    await supervisor.spawn(start_message("serve"))
    with pytest.raises(WorkerStartError, match=r"did not report ready within 0\.5 s"):
        await supervisor.wait_ready(0.5)
    assert (await supervisor.exited()).code == -9


async def _answers(seen: list[protocol.Ready | protocol.Heartbeat]) -> list[str]:
    """What the fake worker got for its two requests for secrets."""
    for _ in range(200):
        shown = [m.loaded[0] for m in seen if isinstance(m, protocol.Heartbeat)][1:]
        if len(shown) == 2:
            return shown
        await asyncio.sleep(0.05)
    raise AssertionError(f"the worker's requests for secrets were not answered: {seen}")


async def test_each_request_for_secrets_is_answered_from_a_fresh_read() -> None:
    reads = 0

    async def read() -> dict[str, str]:
        nonlocal reads
        reads += 1
        return {"TOKEN": f"value-{reads}", "OTHER": "x"}

    supervisor, seen = await supervise("secrets", secrets=read)
    await supervisor.wait_ready(10)
    assert await _answers(seen) == ["1:OTHER=x,TOKEN=value-1", "2:OTHER=x,TOKEN=value-2"]
    await supervisor.stop()


async def test_a_failed_read_answers_its_kind_only() -> None:
    async def fail() -> dict[str, str]:
        raise RuntimeError("connection to postgresql://user:password@db failed")

    supervisor, seen = await supervise("secrets", secrets=fail)
    await supervisor.wait_ready(10)
    reason = "the manager could not read them (RuntimeError)"
    assert await _answers(seen) == [f"1:{reason}", f"2:{reason}"]
    await supervisor.stop()

    supervisor, seen = await supervise("secrets")
    await supervisor.wait_ready(10)
    assert (await _answers(seen))[0] == "1:this manager serves no secrets"
    await supervisor.stop()
