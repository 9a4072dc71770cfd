"""Compiling graphs off the API's event loop, in a few processes, each bounded.

:func:`runloom.compiler.compile_workflow` is pure but not cheap on every input: a graph
is user input, and a template nested a hundred levels deep, or thousands of ``elif``, can
keep Jinja's code generator busy for minutes. Run on the event loop, that freezes the
API for everyone. So each compilation goes to a warm child process
(:mod:`runloom.services._compiler_main`), at most ``workers`` at a time:

* a compilation that overruns ``timeout_s`` has its process killed and answers
  :class:`CompileTimeoutError`; one that needs more than ``memory_mb`` MiB (an address
  space limit of the process) answers :class:`CompileMemoryError`; a process that dies
  answers :class:`CompileCrashedError`: all three are 422s that say what to change;
* callers beyond the busy workers wait, at most ``max_waiting`` of them; the next one is
  refused at once with :class:`CompilerBusyError` (503, retry), so that waiting callers,
  each holding a database connection, cannot drain the connection pool.

Processes start on first use and are reused; one killed is replaced on the next call.
They get no secrets: their environment is ``PATH`` and ``PYTHONPATH``. The API installs
one pool made from its settings (:func:`install`); :func:`current` is that pool, or a
default one for other callers (tests, scripts).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import pickle
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from runloom.compiler import (
    CompiledWorkflow,
    CompileOptions,
    GeneratedCodeInvalid,
    GraphInvalid,
    Problem,
)
from runloom.compiler.options import DEFAULT_OPTIONS
from runloom.errors import InvalidRequestError, RunloomError
from runloom.services._compiler_main import HEADER_BYTES
from runloom.settings import Settings

__all__ = [
    "CompileCrashedError",
    "CompileError",
    "CompileMemoryError",
    "CompilePool",
    "CompileTimeoutError",
    "CompilerBusyError",
    "CompilerUnavailableError",
    "PoolLimits",
    "TemplateRenderError",
    "current",
    "install",
]

log = logging.getLogger(__name__)

_MAX_REPLY = 256 * 1024 * 1024
_START_TIMEOUT_S = 60.0
RENDER_TIMEOUT_S = 3.0  # a template preview or test; a run's templates have no such bound
_SPLIT_HINT = (
    "simplify its templates (fewer blocks and loops inside one another, shorter "
    "chains of elif) or split the graph into child workflows"
)


class CompileError(InvalidRequestError):
    """The graph could not be compiled within the compiler's bounds (answered 422)."""


class CompileTimeoutError(CompileError):
    def __init__(self, timeout_s: float) -> None:
        super().__init__(
            f"compiling this graph took longer than {timeout_s:g} s, and was stopped; {_SPLIT_HINT}"
        )


class CompileMemoryError(CompileError):
    def __init__(self, memory_mb: int) -> None:
        super().__init__(
            f"compiling this graph needed more than {memory_mb} MiB of memory, and was "
            f"stopped; {_SPLIT_HINT}"
        )


class CompileCrashedError(CompileError):
    """The compile process died on this graph, or the compiler failed on it."""


class CompilerBusyError(RunloomError):
    """Every compile process is busy and enough callers already wait (answered 503)."""

    retry_after_s = 1.0


class CompilerUnavailableError(CompilerBusyError):
    """A compile process would not start: the platform's fault, not the graph's (503)."""


class TemplateRenderError(InvalidRequestError):
    """A template did not render (syntax, a sandbox limit, an error, too slow): 422."""


class _ChildDied(Exception):
    pass


class _Child:
    """One compile process and its pipes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, command: Sequence[str]) -> _Child:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=_child_environment(),
            start_new_session=True,  # its own group, killed whole; Ctrl-C is the parent's
        )
        child = cls(process)
        try:
            ready = await asyncio.wait_for(child.read(), _START_TIMEOUT_S)
            if ready != {"ready": True}:
                raise _ChildDied(f"it said {ready!r} instead of being ready")
        except (TimeoutError, _ChildDied) as err:
            await child.kill()
            log.error("a compile process did not start: %s", err or "no answer")
            raise CompilerUnavailableError(
                f"the compiler could not start ({err or 'no answer'}); retry, and tell the "
                "operator if this persists"
            ) from None
        except BaseException:
            await child.kill()
            raise
        return child

    async def read(self) -> dict[str, Any]:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            size = int.from_bytes(await stdout.readexactly(HEADER_BYTES), "big")
            if size > _MAX_REPLY:
                raise _ChildDied(f"it sent a {size}-byte reply")
            reply = _json_object(await stdout.readexactly(size))
        except (asyncio.IncompleteReadError, ConnectionError, ValueError) as err:
            raise _ChildDied(str(err)) from err
        return reply

    async def exchange(self, body: bytes) -> dict[str, Any]:
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write(len(body).to_bytes(HEADER_BYTES, "big") + body)
            await stdin.drain()
        except ConnectionError as err:
            raise _ChildDied(str(err)) from err
        return await self.read()

    def signal_kill(self) -> None:
        # The whole session; not Process.kill, which may reap behind asyncio's back.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    async def kill(self) -> None:
        self.signal_kill()
        await self.wait()

    async def wait(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.process.wait(), 10)

    async def ending(self) -> str:
        """How the process ended, once its pipe broke: "killed by SIGSEGV", "exit status 1"."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.process.wait(), 2)
        code = self.process.returncode
        await self.kill()
        if code is None:
            return "it stopped answering"
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"killed by {signal.Signals(-code).name}"
            return f"killed by signal {-code}"
        return f"exit status {code}"


def _json_object(body: bytes) -> dict[str, Any]:
    value = json.loads(body)
    if not isinstance(value, dict):
        raise ValueError("the reply is not a JSON object")
    return value


def _child_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k in ("PATH", "PYTHONPATH")}


def _compiled(document: Mapping[str, Any]) -> CompiledWorkflow:
    fields = dict(document)
    fields["activity_types"] = tuple(fields["activity_types"])
    fields["warnings"] = tuple(Problem(**w) for w in fields["warnings"])
    return CompiledWorkflow(**fields)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PoolLimits:
    """``workers`` processes at most, each compilation within ``timeout_s`` seconds and
    ``memory_mb`` MiB, and at most ``max_waiting`` callers waiting for a process."""

    workers: int = 2
    timeout_s: float = 10.0
    memory_mb: int = 512
    max_waiting: int = 4

    @classmethod
    def from_settings(cls, settings: Settings) -> PoolLimits:
        return cls(
            workers=settings.runloom_compile_workers,
            timeout_s=settings.runloom_compile_timeout_s,
            memory_mb=settings.runloom_compile_memory_mb,
            max_waiting=settings.runloom_compile_queue,
        )


class CompilePool:
    """Compiles graphs in bounded child processes (see the module docstring)."""

    def __init__(
        self, limits: PoolLimits | None = None, *, command: Sequence[str] | None = None
    ) -> None:
        """``command`` runs something else than the compile process (a test seam); it
        must speak its protocol."""
        self.limits = limits or PoolLimits()
        self._command = list(command or [sys.executable, "-m", "runloom.services._compiler_main"])
        self._command.append(str(self.limits.memory_mb))
        self._idle: list[_Child] = []
        self._reaping: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots = asyncio.Semaphore(self.limits.workers)
        self._waiting = 0

    async def compile(
        self,
        graph: Mapping[str, Any],
        *,
        workflow_key: str,
        version: int,
        options: CompileOptions = DEFAULT_OPTIONS,
    ) -> CompiledWorkflow:
        """As :func:`runloom.compiler.compile_workflow`, in a compile process.

        Raises GraphInvalid as the compiler does, a :class:`CompileError` for a graph the
        bounds stop, :class:`CompilerBusyError` when too many callers already wait.
        """
        request = {
            "graph": graph,
            "workflow_key": workflow_key,
            "version": version,
            # A mapping proxy does not pickle; the compile process makes it one again.
            "options": dataclasses.replace(
                options, child_workflow_types=dict(options.child_workflow_types)
            ),
        }
        reply = await self._call(pickle.dumps(request))
        if "compiled" in reply:
            return _compiled(reply["compiled"])
        if "problems" in reply:
            raise GraphInvalid(tuple(Problem(**p) for p in reply["problems"]))
        raise self._failure(reply, workflow_key=workflow_key)

    async def render(
        self, template: Any, scope: Mapping[str, Any], *, secrets: Mapping[str, str] | None
    ) -> Any:
        """Render ``template`` (JSON with templates) against ``scope`` as a run would, in a
        compile process, within :data:`RENDER_TIMEOUT_S`; constant arithmetic over the
        sandbox's limits is refused as at compile time. ``secrets``: the values
        ``secrets.NAME`` reads; None renders ``«secret NAME»``. :class:`TemplateRenderError`
        says what went wrong."""
        timeout = min(RENDER_TIMEOUT_S, self.limits.timeout_s)
        body = pickle.dumps({"render": template, "scope": dict(scope), "secrets": secrets})
        try:
            reply = await self._call(body, timeout_s=timeout)
        except CompileTimeoutError:
            raise TemplateRenderError(f"rendering took longer than {timeout:g} s") from None
        if "value" in reply:
            return reply["value"]
        if reply.get("failure") == "memory":
            raise TemplateRenderError(f"rendering needed over {self.limits.memory_mb} MiB")
        raise TemplateRenderError(str(reply.get("render_error") or reply.get("message")))

    def _failure(self, reply: Mapping[str, Any], *, workflow_key: str) -> Exception:
        failure, message = reply.get("failure"), str(reply.get("message", ""))
        if failure == "memory":
            return CompileMemoryError(self.limits.memory_mb)
        log.warning(
            "compiling workflow %r failed: %s\n%s", workflow_key, message, reply.get("traceback")
        )
        if failure == "bug":
            return GeneratedCodeInvalid(message)
        return CompileCrashedError(f"the compiler failed on this graph ({message}); {_SPLIT_HINT}")

    async def _call(self, body: bytes, *, timeout_s: float | None = None) -> dict[str, Any]:
        self._same_loop()
        if self._slots.locked() and self._waiting >= self.limits.max_waiting:
            raise CompilerBusyError(
                f"all {self.limits.workers} compile processes are busy and "
                f"{self._waiting} more graphs wait; retry in a moment"
            )
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        try:
            child = self._idle.pop() if self._idle else await _Child.start(self._command)
            return await self._exchange(child, body, timeout_s or self.limits.timeout_s)
        finally:
            self._slots.release()

    async def _exchange(self, child: _Child, body: bytes, timeout_s: float) -> dict[str, Any]:
        try:
            reply = await asyncio.wait_for(child.exchange(body), timeout_s)
        except TimeoutError:
            await child.kill()
            raise CompileTimeoutError(timeout_s) from None
        except _ChildDied:
            ending = await child.ending()
            raise CompileCrashedError(
                f"the compile process ended ({ending}) while compiling this graph; it may "
                f"need more than {self.limits.memory_mb} MiB of memory or nest too deeply: "
                f"{_SPLIT_HINT}"
            ) from None
        except BaseException:
            # Cancelled mid-compilation: the process is busy with a graph nobody awaits.
            child.signal_kill()
            self._reap(child)
            raise
        if reply.get("exit"):
            await child.kill()
        else:
            self._idle.append(child)
        return reply

    def _reap(self, child: _Child) -> None:
        task = asyncio.get_running_loop().create_task(child.wait())
        self._reaping.add(task)
        task.add_done_callback(self._reaping.discard)

    def _same_loop(self) -> None:
        # Processes belong to the event loop that started them. A pool used from a new
        # loop (a restarted server's, a test's) forgets the old one's processes, which
        # exit when their stdin closes with it.
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            for child in self._idle:
                child.signal_kill()
            self._idle.clear()
            self._loop = loop
            self._slots = asyncio.Semaphore(self.limits.workers)
            self._waiting = 0

    async def close(self) -> None:
        """End the idle processes (those busy end with their calls)."""
        idle, self._idle = self._idle, []
        if self._loop is asyncio.get_running_loop():
            await asyncio.gather(*(child.wait() for child in idle), *self._reaping)
        else:
            for child in idle:
                child.signal_kill()


_installed: CompilePool | None = None


def install(pool: CompilePool | None) -> CompilePool | None:
    """Make ``pool`` the one :func:`current` returns (None: a default one); the previous."""
    global _installed  # one pool per process, like python_node's executor
    previous, _installed = _installed, pool
    return previous


def current() -> CompilePool:
    """The installed pool, or a default one (created once)."""
    global _installed
    if _installed is None:
        _installed = CompilePool()
    return _installed
