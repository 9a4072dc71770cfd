"""Workers forked by the zygote: served runs, a clean environment, limits, their own process
group, exits reported, a dead zygote replaced, the exec path as fallback, and no way from
user code to the zygote's socket."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import stat
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psutil
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from runloom.compiler import compile_workflow
from runloom.hardening import SANDBOX_MAPPING_CAPS
from runloom.manager.supervisor import Supervisor
from runloom.worker import forked, protocol
from runloom.worker.protocol import BundleEntry
from runloom.worker.spawn import worker_command, worker_environment, zygote_command
from tests.factory import chain
from tests.worker.test_process import PROBE, entry

pytestmark = pytest.mark.timeout(120)

# What a leak would look like: the platform's secrets in the manager's environment.
PARENT_ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/tmp",
    "DATABASE_URL": "postgresql://user:password@db/runloom",
    "RUNLOOM_JWT_SECRET": "a-platform-secret-that-no-worker-may-see",
}

# A python node (isolation off: a plain child process of the worker) that lists the
# sockets it holds and those of the worker it runs under, where it can read them.
SOCKETS_PROBE = chain(
    {
        "id": "look",
        "type": "python",
        "config": {
            "code": (
                "import os\n"
                "def sockets(pid):\n"
                "    found = []\n"
                "    try:\n"
                "        names = os.listdir(f'/proc/{pid}/fd')\n"
                "    except OSError as exc:\n"
                "        return [type(exc).__name__]\n"
                "    for name in names:\n"
                "        try:\n"
                "            target = os.readlink(f'/proc/{pid}/fd/{name}')\n"
                "        except OSError:\n"
                "            continue\n"
                "        if target.startswith('socket:'):\n"
                "            found.append(target)\n"
                "    return found\n"
                "return {'mine': sockets('self'), 'worker': sockets(os.getppid())}"
            )
        },
    },
    output="{{ steps.look }}",
)


def start_message(
    task_queue: str, address: str, *bundle: BundleEntry, **options: Any
) -> protocol.Start:
    if not bundle:
        compiled = compile_workflow(chain(output="done"), workflow_key="plain", version=1)
        bundle = (entry(compiled, uuid.uuid4().hex),)
    return protocol.Start(
        task_queue=task_queue,
        temporal_address=address,
        temporal_namespace="default",
        identity="zygote-test",
        heartbeat_s=0.3,
        graceful_shutdown_s=5,
        bundle=bundle,
        **options,
    )


def environment(memory_mb: int = 1024) -> dict[str, str]:
    return worker_environment(memory_mb=memory_mb, parent=PARENT_ENV)


@asynccontextmanager
async def supervised(
    start: protocol.Start,
    *,
    memory_mb: int = 1024,
    zygote: bool = True,
    seen: list[Any] | None = None,
) -> AsyncIterator[Supervisor]:
    async def record(message: Any) -> None:
        if seen is not None:
            seen.append(message)

    supervisor = Supervisor(
        name=f"zygote-test-{uuid.uuid4().hex[:6]}",
        command=worker_command(),
        env=environment(memory_mb),
        on_message=record,
        graceful_shutdown_s=5,
        zygote=zygote,
    )
    await supervisor.spawn(start)
    try:
        yield supervisor
    finally:
        supervisor.kill()


def the_zygote(memory_mb: int = 1024) -> forked.Zygote:
    command = zygote_command(worker_command())
    assert command is not None
    return forked.shared_zygote(command, environment(memory_mb))


def socket_inodes(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:
            continue
        if target.startswith("socket:"):
            found.add(target)
    return found


def zygote_end(pid: int) -> str:
    """The zygote's own end of its socketpair, as the kernel names it."""
    path = Path(f"/proc/{pid}/fd/{forked.SOCKET_FD}")
    assert stat.S_ISSOCK(path.stat().st_mode)
    return str(path.readlink())


def cwd_of(pid: int) -> Path:
    return Path(f"/proc/{pid}/cwd").readlink()


def status_of(pid: int) -> dict[str, str]:
    status = Path(f"/proc/{pid}/status").read_text()
    return dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)


def environment_names(pid: int) -> set[str]:
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return {item.split(b"=", 1)[0].decode() for item in environ if item}


async def test_a_forked_worker_serves_a_run_clean_and_limited(
    temporal_env: WorkflowEnvironment, temporal_client: Client
) -> None:
    compiled = compile_workflow(PROBE, workflow_key="probe", version=1)
    task_queue = f"tq-{uuid.uuid4().hex}"
    address = temporal_env.client.service_client.config.target_host
    bundle = entry(compiled, uuid.uuid4().hex)
    async with supervised(start_message(task_queue, address, bundle), memory_mb=900) as sup:
        ready = await sup.wait_ready(60)
        assert ready.loaded == ("probe@v1",) and ready.pid == sup.pid
        zygote = the_zygote(900)
        assert zygote.pid is not None
        assert psutil.Process(ready.pid).ppid() == zygote.pid, "forked by the zygote"
        assert os.getpgid(ready.pid) == ready.pid, "its own process group"
        limit = psutil.Process(ready.pid).rlimit(psutil.RLIMIT_AS)
        assert limit == (900 * 1024 * 1024, 900 * 1024 * 1024)
        names = environment_names(ready.pid)
        assert "PATH" in names and "RUNLOOM_WORKER_MEMORY_MB" in names
        assert "DATABASE_URL" not in names and "RUNLOOM_JWT_SECRET" not in names
        assert cwd_of(ready.pid).name.startswith("runloom-worker-"), "its private directory"
        assert "DATABASE_URL" not in environment_names(zygote.pid)
        fields = status_of(ready.pid)
        kept = sum(1 << cap for cap in SANDBOX_MAPPING_CAPS) if os.geteuid() == 0 else 0
        # No capability beyond what the sandbox needs: no DAC override, no ptrace, no kill.
        assert int(fields["CapEff"], 16) & ~kept == 0, fields["CapEff"]
        assert fields["NoNewPrivs"].strip() == "1"

        result = await temporal_client.execute_workflow(
            "probe@v1", {}, id=f"probe-{uuid.uuid4().hex}", task_queue=task_queue
        )
        assert "DATABASE_URL" not in result["env"]
        info = await sup.stop()
        assert info.code == 0 and info.tasks[0] >= 2


async def test_user_code_cannot_reach_the_zygote_socket(
    temporal_env: WorkflowEnvironment, temporal_client: Client
) -> None:
    compiled = compile_workflow(SOCKETS_PROBE, workflow_key="look", version=1)
    task_queue = f"tq-{uuid.uuid4().hex}"
    address = temporal_env.client.service_client.config.target_host
    start = start_message(
        task_queue, address, entry(compiled, uuid.uuid4().hex), python_isolation="off"
    )
    async with supervised(start) as sup:
        ready = await sup.wait_ready(60)
        zygote = the_zygote()
        assert zygote.pid is not None
        end = zygote_end(zygote.pid)
        assert end in socket_inodes(zygote.pid)
        assert end not in socket_inodes(ready.pid), "the worker holds the zygote's socket"

        seen = await temporal_client.execute_workflow(
            "look@v1", {}, id=f"look-{uuid.uuid4().hex}", task_queue=task_queue
        )
        assert end not in seen["mine"] and end not in seen["worker"]
        await sup.stop()


async def test_a_killed_zygote_takes_its_workers_and_is_replaced(
    temporal_env: WorkflowEnvironment,
) -> None:
    address = temporal_env.client.service_client.config.target_host
    async with supervised(start_message(f"tq-{uuid.uuid4().hex}", address)) as first:
        ready = await first.wait_ready(60)
        zygote = the_zygote()
        assert zygote.pid is not None and psutil.Process(ready.pid).ppid() == zygote.pid
        old_zygote = zygote.pid
        os.kill(old_zygote, signal.SIGKILL)
        info = await asyncio.wait_for(first.exited(), 30)
        assert info.code == -signal.SIGKILL
        assert not psutil.pid_exists(ready.pid) or psutil.Process(ready.pid).status() == "zombie"

    async with supervised(start_message(f"tq-{uuid.uuid4().hex}", address)) as second:
        ready = await second.wait_ready(60)
        zygote = the_zygote()
        assert zygote.pid not in (None, old_zygote)
        assert psutil.Process(ready.pid).ppid() == zygote.pid
        second.kill()
        assert (await asyncio.wait_for(second.exited(), 30)).code == -signal.SIGKILL


async def test_a_closed_zygote_still_reports_its_workers_exits(
    temporal_env: WorkflowEnvironment,
) -> None:
    address = temporal_env.client.service_client.config.target_host
    async with supervised(start_message(f"tq-{uuid.uuid4().hex}", address)) as sup:
        await sup.wait_ready(60)
        zygote = the_zygote()
        forked.close_zygotes()
        assert zygote.pid is not None and psutil.pid_exists(zygote.pid)
        info = await sup.stop()
        assert info.code == 0, "a graceful stop, as reported by the zygote"
        # With its last worker gone, the closed zygote exits too.
        for _ in range(300):
            if not psutil.pid_exists(zygote.pid):
                break
            await asyncio.sleep(0.1)
        assert not psutil.pid_exists(zygote.pid)


async def test_the_exec_path_when_off_or_when_the_zygote_cannot_start(
    temporal_env: WorkflowEnvironment,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    address = temporal_env.client.service_client.config.target_host
    async with supervised(start_message(f"tq-{uuid.uuid4().hex}", address), zygote=False) as sup:
        ready = await sup.wait_ready(60)
        assert psutil.Process(ready.pid).ppid() == os.getpid(), "exec'd by the supervisor"
        assert (await sup.stop()).code == 0

    def refuse(*_: object) -> int:
        raise OSError("no zygote on this host")

    # Only runloom's own worker command has a zygote (a stand-in worker is exec'd).
    assert zygote_command([sys.executable, "-m", "tests.manager.fake_worker"]) is None
    forked.close_zygotes()
    monkeypatch.setattr(forked, "_spawn", refuse)
    caplog.set_level(logging.WARNING, logger="runloom.manager.supervisor")
    async with supervised(start_message(f"tq-{uuid.uuid4().hex}", address)) as sup:
        ready = await sup.wait_ready(60)
        assert psutil.Process(ready.pid).ppid() == os.getpid(), "exec'd instead"
        assert "exec'd, not forked: cannot start the zygote: no zygote on this host" in caplog.text
        assert (await sup.stop()).code == 0
    # The failure is remembered: the next worker is exec'd at once, without a new attempt.
    monkeypatch.undo()
    async with supervised(start_message(f"tq-{uuid.uuid4().hex}", address)) as sup:
        ready = await sup.wait_ready(60)
        assert psutil.Process(ready.pid).ppid() == os.getpid()
        assert "exec'd, not forked: the zygote failed to start less than 60 s ago" in caplog.text
        assert (await sup.stop()).code == 0
    forked.close_zygotes()  # and is forgotten with it, for later tests


async def test_memory_is_reported_as_pss_and_no_runner_waits_without_python_nodes(
    temporal_env: WorkflowEnvironment, temporal_client: Client
) -> None:
    task_queue = f"tq-{uuid.uuid4().hex}"
    address = temporal_env.client.service_client.config.target_host
    seen: list[Any] = []
    async with supervised(start_message(task_queue, address), seen=seen) as sup:
        ready = await sup.wait_ready(60)
        result = await temporal_client.execute_workflow(
            "plain@v1", {}, id=f"plain-{uuid.uuid4().hex}", task_queue=task_queue
        )
        assert result == "done"
        # A python runner kept warm would be a child of the worker, for nothing.
        assert psutil.Process(ready.pid).children() == []
        for _ in range(300):
            if any(isinstance(m, protocol.Heartbeat) for m in seen):
                break
            await asyncio.sleep(0.1)
        beat = next(m for m in seen if isinstance(m, protocol.Heartbeat))
        # Pages shared with the zygote count for a share only: PSS is below RSS.
        assert beat.pss_mb is not None and 0 < beat.pss_mb < beat.rss_mb
        await sup.stop()
