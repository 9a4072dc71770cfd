"""Warm runner processes shared by a worker's python-node calls.

A call borrows an idle runner (starting one when fewer than ``size`` exist, waiting
otherwise), sends it the node, and gives it back. Each call is one message on a pipe to a
process that is already running: no process start per call. A runner that overran its
time, died, or did something that could outlive the call (forked, left a thread behind,
ran out of memory) is killed, and a fresh one is started in the background so that
``warm`` stay ready. Runners are also replaced after ``recycle_after`` calls.

Runners have no network unless the pool is made with ``network=True``: then node code
reaches HTTP(S) servers through the pool's egress proxy (``proxy.py``), which allows what
the egress policy allows http nodes, and nothing else leaves the jail.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import time
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runloom.sandbox.errors import SandboxError, SandboxUnavailableError
from runloom.sandbox.jail import Jail, probe, venv_site_packages
from runloom.sandbox.limits import Isolation, SandboxLimits
from runloom.sandbox.process import RunnerDied, RunnerProcess, encode
from runloom.sandbox.proxy import EgressProxy
from runloom_runtime.egress import EgressPolicy

__all__ = ["CallResult", "RunnerPool"]

log = logging.getLogger(__name__)
_RETRY_SPAWN_AFTER_S = 5.0


@dataclass(frozen=True, kw_only=True)
class CallResult:
    """The outcome of one call: ``output`` when ``ok``, else the ``error_*`` fields.

    ``error_type`` is the user's exception class name, or ``SyntaxError``,
    ``ResultNotJson``, ``ResultTooLarge``, ``TimeoutError``, ``RunnerCrashed``.
    """

    ok: bool
    output: Any = None
    logs: str = ""
    error_type: str | None = None
    error_message: str | None = None
    traceback: str | None = None
    non_retryable: bool = False
    runner_pid: int | None = None

    def as_reply(self) -> dict[str, Any]:
        """The reply shape ``runloom_runtime.python_node`` expects from an executor."""
        if self.ok:
            return {"ok": True, "output": self.output, "logs": self.logs}
        return {
            "ok": False,
            "error_type": self.error_type,
            "error_message": self.error_message,
            "non_retryable": self.non_retryable,
            "traceback": self.traceback,
            "logs": self.logs,
        }


class RunnerPool:
    """Runs python-node code in warm, isolated runner processes (see the module docstring)."""

    def __init__(
        self,
        *,
        limits: SandboxLimits | None = None,
        size: int = 4,
        warm: int = 1,
        isolation: Isolation = "on",
        recycle_after: int = 1000,
        default_timeout_s: float = 60.0,
        import_site_packages: bool = True,
        hidden_paths: Sequence[Path] = (),
        network: bool = False,
        egress: EgressPolicy | EgressProxy | None = None,
    ) -> None:
        """``size``: most runners at once (so most concurrent calls); ``warm``: runners
        kept started; ``isolation="off"`` runs them as plain processes (still separate,
        with limits and timeouts) on hosts that cannot isolate, for single-user installs.
        ``import_site_packages`` lets nodes import the worker's installed libraries.
        ``hidden_paths`` (the data dir, say) are covered if they lie in a bound tree.
        ``network=True`` lets nodes make HTTP(S) requests through an egress proxy that
        enforces ``egress``: a policy (by default ``runloom_runtime.egress.current()``,
        read on each connection), or a proxy of one's own (its resolver, connector,
        limits). With isolation "off" nothing forces code through the proxy.
        """
        if size < 1 or not 0 <= warm <= size:
            raise ValueError("RunnerPool needs size >= 1 and 0 <= warm <= size")
        if isolation not in ("on", "off"):
            raise ValueError(f"isolation must be 'on' or 'off', not {isolation!r}")
        if egress is not None and not network:
            raise ValueError("RunnerPool: egress applies only with network=True")
        self.limits = limits or SandboxLimits()
        self.isolation: Isolation = isolation
        self._size = size
        self._warm = warm
        self._recycle_after = recycle_after
        self._default_timeout_s = default_timeout_s
        site = venv_site_packages() if import_site_packages else None
        self._jail = Jail(
            limits=self.limits, isolation=isolation, site_packages=site, hidden=hidden_paths
        )
        self._idle: collections.deque[RunnerProcess] = collections.deque()
        self._runners: set[RunnerProcess] = set()
        self._starting = 0
        self._wakeup = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._warming: set[asyncio.Task[None]] = set()
        self._failed_at = float("-inf")
        self._closed = False
        self.network = network
        self._proxy: EgressProxy | None = None
        if network:
            self._proxy = egress if isinstance(egress, EgressProxy) else EgressProxy(egress)

    async def start(self) -> None:
        """Check that the host can isolate (when asked to) and start ``warm`` runners."""
        if self.isolation == "on" and (reason := await asyncio.to_thread(probe)) is not None:
            raise SandboxUnavailableError(
                f"python nodes cannot be isolated on this host: {reason}. Make user "
                "namespaces available to bubblewrap, or set RUNLOOM_PYTHON_ISOLATION=off "
                "to run them without isolation (acceptable only for single-user installs)."
            )
        if self._proxy is not None:
            await self._start_proxy(self._proxy)
        runners = await asyncio.gather(
            *(self._start_runner() for _ in range(self._warm)), return_exceptions=True
        )
        for runner in runners:
            if isinstance(runner, RunnerProcess):
                self._idle.append(runner)
        errors = [r for r in runners if isinstance(r, BaseException)]
        if errors:
            raise errors[0]

    async def call(
        self,
        *,
        code: str,
        node_id: str,
        args: Mapping[str, Any],
        timeout_s: float | None = None,
        secrets: Mapping[str, str] | None = None,
    ) -> CallResult:
        """Run ``code`` (a function body) with ``args`` (input, steps, item, index).

        Failures of the code are results, never exceptions; ``SandboxError`` means the
        pool could not run it at all (closed, or no runner would start).
        """
        timeout = self._default_timeout_s if timeout_s is None else max(timeout_s, 0.0)
        request = {"code": code, "node_id": node_id, "args": dict(args)}
        request["secrets"] = dict(secrets or {})
        try:
            payload = encode(request)
        except (TypeError, ValueError) as err:
            raise SandboxError(f"python node {node_id!r}: arguments are not JSON: {err}") from err
        runner = await self._acquire()
        keep = False
        try:
            try:
                reply = await asyncio.wait_for(runner.exchange(payload), timeout)
            except TimeoutError:
                await runner.kill()
                return CallResult(
                    ok=False,
                    error_type="TimeoutError",
                    error_message=f"python node {node_id!r} ran longer than "
                    f"{_seconds(timeout)} and was stopped",
                    runner_pid=runner.pid,
                )
            except RunnerDied:
                return self._crashed(node_id, await runner.ending(), runner.pid)
            runner.calls += 1
            keep = not reply.get("recycle") and runner.calls < self._recycle_after
            return _result(reply, runner.pid)
        finally:
            self._give_back(runner, keep=keep)

    @property
    def egress_proxy(self) -> EgressProxy | None:
        """The proxy that node requests go through (network on), else None."""
        return self._proxy

    def runner_pids(self) -> list[int]:
        """Host pids of the runners alive now (the bubblewrap process when isolated)."""
        return sorted(r.pid for r in self._runners)

    async def close(self) -> None:
        """Kill every runner, busy or not; later calls raise ``SandboxError``."""
        self._closed = True
        self._wake()
        runners = list(self._runners)
        self._runners.clear()
        self._idle.clear()
        for task in self._warming:
            task.cancel()  # kills what it started; kills already under way are awaited
        await asyncio.gather(*(r.kill() for r in runners), *self._tasks, return_exceptions=True)
        if self._proxy is not None:
            await self._proxy.close()

    async def __aenter__(self) -> RunnerPool:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _start_proxy(self, proxy: EgressProxy) -> None:
        if self.isolation == "off":
            log.warning(
                "python nodes have network with isolation off: their requests go through "
                "the egress proxy by default, but nothing keeps their code from going around"
            )
        await proxy.start()
        self._jail = dataclasses.replace(self._jail, egress_socket=proxy.path)

    async def _acquire(self) -> RunnerProcess:
        while True:
            if self._closed:
                raise SandboxError("the python runner pool is closed")
            while self._idle:
                runner = self._idle.pop()  # the most recently used: its caches are warm
                if runner.alive:
                    return runner
                self._give_back(runner, keep=False)
            if len(self._runners) + self._starting < self._size:
                return await self._start_runner()
            self._wakeup.clear()
            await self._wakeup.wait()

    async def _start_runner(self, *, counted: bool = False) -> RunnerProcess:
        if not counted:
            self._starting += 1
        try:
            runner = await RunnerProcess.start(self._jail)
        except Exception:
            self._failed_at = time.monotonic()
            raise
        finally:
            self._starting -= 1
            self._wake()
        if self._closed:
            await runner.kill()
            raise SandboxError("the python runner pool is closed")
        self._runners.add(runner)
        return runner

    def _give_back(self, runner: RunnerProcess, *, keep: bool) -> None:
        if keep and runner.alive and not self._closed:
            self._idle.append(runner)
        else:
            self._runners.discard(runner)
            if runner.alive:
                self._background(runner.kill())
            self._replenish()
        self._wake()

    def _replenish(self) -> None:
        """Start runners in the background until ``warm`` exist again."""
        if self._closed or time.monotonic() - self._failed_at < _RETRY_SPAWN_AFTER_S:
            return
        while len(self._runners) + self._starting < self._warm:
            self._starting += 1  # counted at once, so that this loop ends
            task = self._background(self._warm_one())
            self._warming.add(task)
            task.add_done_callback(self._warming.discard)

    async def _warm_one(self) -> None:
        try:
            runner = await self._start_runner(counted=True)
        except Exception:
            log.exception("a python runner did not start")
            return
        self._idle.appendleft(runner)
        self._wake()

    def _background(self, job: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _wake(self) -> None:
        self._wakeup.set()

    def _crashed(self, node_id: str, how: str, pid: int) -> CallResult:
        limits = self.limits
        if how == "killed by SIGXCPU":
            message = f"python node {node_id!r} used more than {limits.cpu_s} s of CPU time"
            return CallResult(
                ok=False,
                error_type="TimeoutError",
                error_message=f"{message} and was stopped",
                runner_pid=pid,
            )
        hints = {
            "killed by SIGKILL": f"memory limit {limits.memory_mb} MB?",
            "killed by SIGSEGV": f"memory limit {limits.memory_mb} MB, or a native crash?",
            "killed by SIGABRT": f"memory limit {limits.memory_mb} MB, or a native crash?",
            "killed by SIGSYS": "a forbidden system call",
        }
        detail = f"{how}; {hints[how]}" if how in hints else how
        log.warning("python node %r: its runner ended unexpectedly (%s)", node_id, detail)
        return CallResult(
            ok=False,
            error_type="RunnerCrashed",
            error_message=f"python node {node_id!r}: its process ended unexpectedly ({detail})",
            runner_pid=pid,
        )


def _result(reply: Mapping[str, Any], pid: int) -> CallResult:
    logs = str(reply.get("logs") or "")
    if reply.get("ok"):
        return CallResult(ok=True, output=reply.get("output"), logs=logs, runner_pid=pid)
    trace = reply.get("traceback")
    return CallResult(
        ok=False,
        logs=logs,
        error_type=str(reply.get("error_type")),
        error_message=str(reply.get("error_message")),
        traceback=None if trace is None else str(trace),
        non_retryable=bool(reply.get("non_retryable")),
        runner_pid=pid,
    )


def _seconds(value: float) -> str:
    return f"{round(value, 2):g} s"
