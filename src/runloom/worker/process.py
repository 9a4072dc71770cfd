"""The project worker process: serves one project's compiled code on its task queue.

Started by a manager (runloom.manager.supervisor) with a scrubbed environment, in its
own process group and a private empty working directory. It reads a ``Start`` message
from stdin, imports every version of the bundle through the in-memory loader, runs a
Temporal ``Worker`` under the default workflow sandbox and writes heartbeats to stdout
(see runloom.worker.protocol).

A ``reload`` starts a second Worker with the new set before the old one shuts down
gracefully, so that the queue is always polled and no task is lost. SIGTERM, ``stop`` or
the end of stdin (the manager died) shut down gracefully. Activities that use project
secrets ask the manager for them over the same pipe (runloom.worker.secrets_pipe).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import IO, TYPE_CHECKING, Any

from runloom import tracing
from runloom.worker import memory, protocol, sdk_metrics
from runloom.worker.memory import limit_address_space
from runloom.worker.protocol import BundleEntry

if TYPE_CHECKING:
    from runloom.worker.secrets_pipe import SecretsPipe

_STARTED = time.monotonic()

# A start message carries the source of every version; allow large bundles.
_LINE_LIMIT = 256 * 1024 * 1024


class _Counters:
    """Tasks finished by this process, across reloads (the registry sums per worker)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.completed = 0
        self.failed = 0
        self._activity_ms = 0.0
        self._activities = 0

    def add(self, *, ok: bool, activity_ms: float | None = None) -> None:
        with self._lock:
            if ok:
                self.completed += 1
            else:
                self.failed += 1
            if activity_ms is not None:
                self._activity_ms += activity_ms
                self._activities += 1

    @property
    def avg_task_ms(self) -> int | None:
        """Mean duration of the activities run here (workflow tasks are replays, not work)."""
        with self._lock:
            return round(self._activity_ms / self._activities) if self._activities else None


COUNTERS = _Counters()


def _counting_interceptor() -> Any:
    # Imported here so that `python -m runloom.worker --help`-style failures stay cheap.
    from temporalio import workflow
    from temporalio.worker import (
        ActivityInboundInterceptor,
        ExecuteActivityInput,
        ExecuteWorkflowInput,
        Interceptor,
        WorkflowInboundInterceptor,
        WorkflowInterceptorClassInput,
    )

    class ActivityCounter(ActivityInboundInterceptor):
        async def execute_activity(self, input: ExecuteActivityInput) -> Any:
            began = time.monotonic()
            try:
                result = await super().execute_activity(input)
            except BaseException:
                COUNTERS.add(ok=False, activity_ms=(time.monotonic() - began) * 1000)
                raise
            COUNTERS.add(ok=True, activity_ms=(time.monotonic() - began) * 1000)
            return result

    class WorkflowCounter(WorkflowInboundInterceptor):
        # The class comes from outside the sandbox, so COUNTERS is this process's object.
        async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
            try:
                result = await super().execute_workflow(input)
            except BaseException:
                # A replay (a query on a closed run, a cache miss) re-runs old work.
                if not workflow.unsafe.is_replaying():
                    COUNTERS.add(ok=False)
                raise
            if not workflow.unsafe.is_replaying():
                COUNTERS.add(ok=True)
            return result

    class Counting(Interceptor):
        def intercept_activity(
            self, following: ActivityInboundInterceptor
        ) -> ActivityInboundInterceptor:
            return ActivityCounter(following)

        def workflow_interceptor_class(
            self, input: WorkflowInterceptorClassInput
        ) -> type[WorkflowInboundInterceptor]:
            return WorkflowCounter

    return Counting()


class _Output:
    """The protocol channel; a private copy of fd 1, so that prints of user code (which
    go to fd 1) land on stderr instead of corrupting the messages."""

    def __init__(self) -> None:
        fd = os.dup(1)
        os.dup2(2, 1)
        self._stream: IO[str] = os.fdopen(fd, "w", buffering=1, encoding="utf-8")
        self._lock = threading.Lock()

    def send(self, message: protocol.WorkerMessage) -> None:
        line = protocol.encode(message).decode()
        with self._lock:
            self._stream.write(line)
            self._stream.flush()


def _load(bundle: tuple[BundleEntry, ...]) -> tuple[list[type], list[Callable[..., Any]]]:
    from runloom.worker.loader import load_compiled

    workflows: list[type] = []
    activities: list[Callable[..., Any]] = []
    for entry in bundle:
        loaded = load_compiled(
            workflow_module=f"{entry.module}.workflow",
            workflow_code=entry.workflow_code,
            activities_module=f"{entry.module}.activities",
            activities_code=entry.activities_code,
        )
        workflows.extend(loaded.workflows)
        activities.extend(loaded.activities)
    return workflows, activities


def _build_id(bundle: tuple[BundleEntry, ...]) -> str:
    digest = hashlib.sha256()
    for entry in sorted(bundle, key=lambda e: e.module):
        for part in (entry.module, entry.workflow_code, entry.activities_code):
            digest.update(part.encode())
            digest.update(b"\0")
    return f"runloom-{digest.hexdigest()[:16]}"


class _Serving:
    """One Temporal Worker and the task that runs it."""

    def __init__(self, worker: Any, bundle: tuple[BundleEntry, ...]) -> None:
        self.worker = worker
        self.bundle = bundle
        self.task: asyncio.Task[None] = asyncio.create_task(worker.run())

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(sorted(entry.workflow_type for entry in self.bundle))


class WorkerProcess:
    def __init__(self, start: protocol.Start, output: _Output) -> None:
        self.start = start
        self.output = output
        self.stop = asyncio.Event()
        self.serving: _Serving | None = None
        self.interceptor = _counting_interceptor()
        # Continues the trace of whoever started the run (nothing when tracing is off).
        self.traced = tracing.install_worker_tracing(start.tracing)
        # One per process: its exporter holds the port the manager scrapes (None: default).
        self.runtime = sdk_metrics.metrics_runtime(start.metrics)
        self.secrets: SecretsPipe | None = None

    async def _new_worker(self, bundle: tuple[BundleEntry, ...]) -> _Serving:
        from temporalio.worker import Worker
        from temporalio.worker.workflow_sandbox import (
            SandboxedWorkflowRunner,
            SandboxRestrictions,
        )

        from runloom.temporal_access import TemporalAccess, connect_temporal

        workflows, activities = _load(bundle)
        # The SDK admits one Worker per task queue and client connection; during a reload
        # the old and the new Worker overlap, so each gets its own connection.
        access = TemporalAccess.from_wire(
            address=self.start.temporal_address,
            namespace=self.start.temporal_namespace,
            wire=self.start.temporal_tls,
        )
        client = await connect_temporal(access, identity=self.start.identity, runtime=self.runtime)
        worker = Worker(
            client,
            task_queue=self.start.task_queue,
            workflows=workflows,
            activities=activities,
            # Without it the SDK hashes the source of every loaded module (about a second
            # of start time); the code of the bundle is what identifies this build anyway.
            build_id=_build_id(bundle),
            interceptors=[self.interceptor, *self.traced],
            workflow_runner=SandboxedWorkflowRunner(
                # Passed through, so that workflows report to this process's listener.
                restrictions=SandboxRestrictions.default.with_passthrough_modules(
                    "runloom_runtime.live", "opentelemetry"
                )
            ),
            identity=self.start.identity,
            graceful_shutdown_timeout=timedelta(seconds=self.start.graceful_shutdown_s),
            # After a reload or a crash, tasks routed to the gone Worker's sticky queue move
            # to the shared queue after this long (SDK default 10 s).
            sticky_queue_schedule_to_start_timeout=timedelta(seconds=3),
        )
        return _Serving(worker, bundle)

    async def run(self, stdin: asyncio.StreamReader) -> int:
        from runloom.worker.live_states import LiveStates
        from runloom.worker.secrets_pipe import SecretsPipe
        from runloom.worker.user_code import UserCode

        # Guards first: no activity may run before python nodes and http requests are
        # confined.
        user_code = UserCode(self.start)
        user_code.install()
        states = LiveStates(self.output.send)
        self.secrets = SecretsPipe(self.output.send)
        self.secrets.install()
        try:
            return await self._serve(stdin)
        finally:
            self.secrets.close()
            states.close()
            await user_code.close()
            tracing.shutdown_tracing()

    async def _serve(self, stdin: asyncio.StreamReader) -> int:
        self.serving = await self._new_worker(self.start.bundle)
        self.output.send(
            protocol.Ready(
                pid=os.getpid(),
                loaded=self.serving.types,
                startup_ms=round((time.monotonic() - _STARTED) * 1000),
            )
        )
        watchers = [
            asyncio.create_task(self._read_commands(stdin)),
            asyncio.create_task(self._heartbeats()),
        ]
        failed: BaseException | None = None
        while not self.stop.is_set():
            serving = self.serving
            stopped = asyncio.create_task(self.stop.wait())
            done, _ = await asyncio.wait(
                {serving.task, stopped}, return_when=asyncio.FIRST_COMPLETED
            )
            stopped.cancel()
            if serving.task in done and serving is self.serving:
                # The live Worker ended by itself: a fatal error (e.g. Temporal refused it).
                failed = serving.task.exception() or RuntimeError("the Temporal worker stopped")
                break
        for watcher in watchers:
            watcher.cancel()
        if self.serving is not None and not self.serving.task.done():
            await self.serving.worker.shutdown()
        if failed is not None:
            self.output.send(protocol.Error(message=f"{type(failed).__name__}: {failed}"))
            return 1
        self.output.send(
            protocol.Stopped(tasks_completed=COUNTERS.completed, tasks_failed=COUNTERS.failed)
        )
        return 0

    async def _reload(self, bundle: tuple[BundleEntry, ...]) -> None:
        old = self.serving
        try:
            new = await self._new_worker(bundle)
        except Exception as exc:  # the old Worker keeps serving
            self.output.send(protocol.ReloadFailed(message=f"{type(exc).__name__}: {exc}"))
            return
        self.serving = new
        self.output.send(protocol.Reloaded(loaded=new.types))
        if old is not None:
            # The new Worker already polls; the old one finishes what it holds.
            await old.worker.shutdown()

    async def _read_commands(self, stdin: asyncio.StreamReader) -> None:
        reloads: set[asyncio.Task[None]] = set()
        while True:
            line = await stdin.readline()
            if not line:
                self.stop.set()
                return
            message = protocol.decode(line)
            if isinstance(message, protocol.Reload):
                task = asyncio.create_task(self._reload(message.bundle))
                reloads.add(task)
                task.add_done_callback(reloads.discard)
            elif isinstance(message, protocol.Secrets) and self.secrets is not None:
                self.secrets.answer(message)
            elif isinstance(message, protocol.Stop):
                self.stop.set()
                return

    async def _heartbeats(self) -> None:
        import psutil

        me = psutil.Process()
        me.cpu_percent(None)
        while True:
            await asyncio.sleep(self.start.heartbeat_s)
            self.output.send(
                protocol.Heartbeat(
                    rss_mb=round(me.memory_info().rss / (1024 * 1024), 1),
                    cpu_percent=round(me.cpu_percent(None), 2),
                    loaded=self.serving.types if self.serving else (),
                    tasks_completed=COUNTERS.completed,
                    tasks_failed=COUNTERS.failed,
                    avg_task_ms=COUNTERS.avg_task_ms,
                    pss_mb=memory.pss_mb(),
                )
            )


async def _stdin_reader() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=_LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def _main(output: _Output) -> int:
    stdin = await _stdin_reader()
    first = await stdin.readline()
    if not first:
        return 0
    start = protocol.decode(first)
    if not isinstance(start, protocol.Start):
        raise protocol.ProtocolError(f"expected a start message first, got {type(start).__name__}")
    process = WorkerProcess(start, output)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, process.stop.set)
    try:
        return await process.run(stdin)
    except Exception as exc:
        output.send(protocol.Error(message=f"{type(exc).__name__}: {exc}"))
        return 1


def _harden() -> None:
    """Before anything else runs: no process of the same user may read this one's memory
    or environment, and a worker started as root keeps no capability but the three the
    sandbox needs to run each python node as nobody (no CAP_DAC_OVERRIDE, no
    CAP_SYS_PTRACE, no CAP_KILL...)."""
    from runloom.hardening import SANDBOX_MAPPING_CAPS, drop_capabilities, make_non_dumpable

    make_non_dumpable()
    drop_capabilities(keep=SANDBOX_MAPPING_CAPS if os.geteuid() == 0 else frozenset())


def main(*, started: float | None = None) -> int:
    """The worker's life; ``started`` is when it began as a process (a zygote's child
    began at its fork, long after this module was imported)."""
    global _STARTED
    _STARTED = _STARTED if started is None else started
    _harden()
    refused = limit_address_space()
    output = _Output()
    if refused is not None:
        print(f"runloom worker: {refused}", file=sys.stderr)
        output.send(protocol.Error(message=refused))
        return 1
    return asyncio.run(_main(output))
