"""The worker process on its own: protocol, environment, limits, reload and shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import psutil
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from runloom.compiler import CompiledWorkflow, compile_workflow
from runloom.hardening import SANDBOX_MAPPING_CAPS
from runloom.sandbox import SandboxLimits
from runloom.worker import protocol
from runloom.worker.protocol import BundleEntry
from runloom.worker.spawn import worker_command, worker_environment
from tests.factory import approval_graph, chain

pytestmark = pytest.mark.timeout(60)

PROBE = chain(
    {
        "id": "probe",
        "type": "python",
        "config": {
            "code": (
                "import os, resource\n"
                "print('user output must not reach the protocol channel')\n"
                "return {'env': sorted(os.environ),"
                " 'as_limit': resource.getrlimit(resource.RLIMIT_AS)[0]}"
            )
        },
    },
    output="{{ steps.probe }}",
)


def entry(compiled: CompiledWorkflow, scope: str) -> BundleEntry:
    return BundleEntry(
        module=f"runloom_code.p_{scope}.w_{compiled.workflow_key}.v{compiled.version}",
        workflow_type=compiled.workflow_type,
        version=compiled.version,
        workflow_code=compiled.workflow_code,
        activities_code=compiled.activities_code,
    )


M = TypeVar("M")


class Child:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def send(self, message: protocol.ManagerMessage) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(protocol.encode(message))
        await self.proc.stdin.drain()

    async def next(self, kind: type[M], *, within_s: float = 15) -> M:
        assert self.proc.stdout is not None
        async with asyncio.timeout(within_s):
            while True:
                line = await self.proc.stdout.readline()
                assert line, f"the worker exited before sending {kind.__name__}"
                message = protocol.decode(line)
                if isinstance(message, kind):
                    return message


@asynccontextmanager
async def worker(
    env: WorkflowEnvironment, task_queue: str, *bundle: BundleEntry, memory_mb: int = 1024
) -> AsyncIterator[Child]:
    address = env.client.service_client.config.target_host
    proc = await asyncio.create_subprocess_exec(
        *worker_command(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        env=worker_environment(
            memory_mb=memory_mb,
            parent={"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgresql://x", "HOME": "/tmp"},
        ),
        start_new_session=True,
    )
    child = Child(proc)
    start = protocol.Start(
        task_queue=task_queue,
        temporal_address=address,
        temporal_namespace="default",
        identity="test-worker",
        heartbeat_s=0.3,
        graceful_shutdown_s=5,
        bundle=bundle,
    )
    await child.send(start)
    try:
        yield child
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_runs_code_with_a_clean_environment_and_limits(
    temporal_env: WorkflowEnvironment, temporal_client: Client
) -> None:
    compiled = compile_workflow(PROBE, workflow_key="probe", version=1)
    task_queue = f"tq-{uuid.uuid4().hex}"
    began = time.monotonic()
    async with worker(
        temporal_env, task_queue, entry(compiled, uuid.uuid4().hex), memory_mb=900
    ) as child:
        ready = await child.next(protocol.Ready)
        started_in = time.monotonic() - began
        assert ready.loaded == ("probe@v1",) and ready.pid == child.proc.pid
        # Process start to a polling Worker: interpreter, imports, connection, sandbox check.
        assert started_in < 2.5, f"worker took {started_in:.2f} s to start"

        result = await temporal_client.execute_workflow(
            "probe@v1", {}, id=f"probe-{uuid.uuid4().hex}", task_queue=task_queue
        )
        assert "DATABASE_URL" not in result["env"]
        # The node ran in a sandboxed runner, under its own limit; the worker has its own.
        assert result["as_limit"] == SandboxLimits().memory_mb * 1024 * 1024
        worker_limit = psutil.Process(child.proc.pid).rlimit(psutil.RLIMIT_AS)
        assert worker_limit == (900 * 1024 * 1024, 900 * 1024 * 1024)
        assert os.getpgid(child.proc.pid) == child.proc.pid, "its own process group"
        status = await asyncio.to_thread(Path(f"/proc/{child.proc.pid}/status").read_text)
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        kept = sum(1 << cap for cap in SANDBOX_MAPPING_CAPS) if os.geteuid() == 0 else 0
        # No capability beyond what the sandbox needs: no DAC override, no ptrace, no kill.
        assert int(fields["CapEff"], 16) & ~kept == 0, fields["CapEff"]
        assert int(fields["CapBnd"], 16) & ~kept == 0, fields["CapBnd"]
        assert fields["NoNewPrivs"].strip() == "1"
        heartbeat = await child.next(protocol.Heartbeat)
        while heartbeat.tasks_completed < 2:  # the activity and the workflow run
            heartbeat = await child.next(protocol.Heartbeat)
        assert heartbeat.rss_mb > 10 and heartbeat.tasks_failed == 0
        assert heartbeat.avg_task_ms is not None and heartbeat.avg_task_ms >= 0

        child.proc.send_signal(signal.SIGTERM)
        stopped = await child.next(protocol.Stopped)
        assert stopped.tasks_completed >= 2
        assert await child.proc.wait() == 0


async def test_reload_serves_new_version_while_old_run_finishes(
    temporal_env: WorkflowEnvironment, temporal_client: Client
) -> None:
    v1 = compile_workflow(approval_graph("one"), workflow_key="flow", version=1)
    v2 = compile_workflow(approval_graph("two"), workflow_key="flow", version=2)
    scope = uuid.uuid4().hex
    task_queue = f"tq-{scope}"
    async with worker(temporal_env, task_queue, entry(v1, scope)) as child:
        await child.next(protocol.Ready)
        old = await temporal_client.start_workflow(
            "flow@v1", {}, id=f"old-{scope}", task_queue=task_queue
        )
        await old.query("node_states")  # it has run its first task in this Worker

        await child.send(protocol.Reload(bundle=(entry(v1, scope), entry(v2, scope))))
        assert (await child.next(protocol.Reloaded)).loaded == ("flow@v1", "flow@v2")

        await old.signal("go", "a")
        new = await temporal_client.start_workflow(
            "flow@v2", {}, id=f"new-{scope}", task_queue=task_queue
        )
        await new.signal("go", "b")
        assert await asyncio.wait_for(old.result(), 20) == "one a"
        assert await asyncio.wait_for(new.result(), 20) == "two b"

        # A broken bundle is refused and the running Worker stays.
        broken = BundleEntry("runloom_code.broken", "flow@v3", 3, "raise SystemError(1)", "")
        await child.send(protocol.Reload(bundle=(broken,)))
        assert "SystemError" in (await child.next(protocol.ReloadFailed)).message

        # The end of stdin means the manager is gone: the worker shuts down.
        assert child.proc.stdin is not None
        child.proc.stdin.close()
        await child.next(protocol.Stopped)
        assert await child.proc.wait() == 0
