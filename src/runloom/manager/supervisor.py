"""One project worker process: spawn it, speak its protocol, reload it, stop it.

No database and no policy here: the manager decides what a ready, a heartbeat or an exit
means (:mod:`runloom.manager.workers`). What a supervisor does know is how to end the
process for sure: the worker runs in its own process group, and a stop ends the group.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from runloom.errors import RunloomError
from runloom.worker import protocol
from runloom.worker.forked import ZygoteError, shared_zygote
from runloom.worker.spawn import zygote_command

__all__ = ["ExitInfo", "Supervisor", "WorkerError", "WorkerStartError", "describe_exit"]

log = logging.getLogger(__name__)

_STDERR_TAIL_LINES = 40
# A start or reload message carries the source of every version; allow large bundles.
_LINE_LIMIT = 16 * 1024 * 1024


class WorkerError(RunloomError):
    """A project worker could not be started, reloaded or stopped."""


class WorkerStartError(WorkerError):
    """The worker process exited or did not report ready in time."""


@dataclass(frozen=True, slots=True)
class ExitInfo:
    code: int
    error: str | None
    stderr_tail: str
    tasks: tuple[int, int]


Reported = protocol.Ready | protocol.Heartbeat | protocol.NodeStates
OnMessage = Callable[[Reported], Awaitable[None]]
SecretsReader = Callable[[], Awaitable[Mapping[str, str]]]
"""The worker's project's secrets as they are now (read for every request)."""


class _Process(Protocol):
    """An exec'd worker (asyncio's subprocess) or one forked by the zygote."""

    @property
    def pid(self) -> int: ...
    @property
    def returncode(self) -> int | None: ...
    @property
    def stdin(self) -> asyncio.StreamWriter | None: ...
    @property
    def stdout(self) -> asyncio.StreamReader | None: ...
    @property
    def stderr(self) -> asyncio.StreamReader | None: ...
    async def wait(self) -> int: ...
    def send_signal(self, signal: int) -> None: ...


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the worker process was killed by {name}"
    return f"the worker process exited with code {code}"


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


class Supervisor:
    """Owns one worker process from spawn to exit."""

    def __init__(
        self,
        *,
        name: str,
        command: Sequence[str],
        env: Mapping[str, str],
        on_message: OnMessage,
        graceful_shutdown_s: float = 30.0,
        secrets: SecretsReader | None = None,
        zygote: bool = False,
    ) -> None:
        """``secrets`` answers the worker's requests for its project's secrets; without
        it, they are answered with an error. With ``zygote``, a worker of runloom's worker
        command is forked by the zygote (:mod:`runloom.worker.zygote`) if it can be, and
        exec'd otherwise."""
        self.name = name
        self._command = list(command)
        self._env = dict(env)
        self._on_message = on_message
        self._graceful_shutdown_s = graceful_shutdown_s
        self._zygote = zygote_command(command) if zygote else None
        self._proc: _Process | None = None
        self._cwd: str | None = None
        self._reader: asyncio.Task[ExitInfo] | None = None
        self._reply: asyncio.Future[protocol.Reloaded | protocol.ReloadFailed] | None = None
        self._secrets = secrets
        self._answering: set[asyncio.Task[None]] = set()
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=_STDERR_TAIL_LINES)
        self.ready: asyncio.Future[protocol.Ready] = asyncio.get_running_loop().create_future()
        self.tasks: tuple[int, int] = (0, 0)
        self.last_message = time.monotonic()
        self.forked = False
        self._spawned_in_ms = 0

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    async def spawn(self, start: protocol.Start) -> None:
        # An empty private directory: nothing to import from, nothing of the platform's.
        self._cwd = tempfile.mkdtemp(prefix="runloom-worker-")
        began = time.monotonic()
        forked = await self._forked(self._cwd)
        self.forked = forked is not None
        self._proc = forked or await self._exec(self._cwd)
        self._spawned_in_ms = round((time.monotonic() - began) * 1000)
        self._reader = asyncio.create_task(self._read(), name=f"supervise-{self.name}")
        await self._send(start)

    async def _forked(self, cwd: str) -> _Process | None:
        if self._zygote is None:
            return None
        try:
            return await shared_zygote(self._zygote, self._env).fork(cwd=cwd, limit=_LINE_LIMIT)
        except (ZygoteError, OSError) as exc:
            log.warning("worker %s: exec'd, not forked: %s", self.name, exc)
            return None

    async def _exec(self, cwd: str) -> _Process:
        return await asyncio.create_subprocess_exec(
            *self._command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._env,
            cwd=cwd,
            # Its own process group: a signal to the manager's group (Ctrl-C) does not hit
            # it, and stopping it can reach everything it started.
            start_new_session=True,
            limit=_LINE_LIMIT,
        )

    async def exited(self) -> ExitInfo:
        """Wait for the process to end; how it ended."""
        assert self._reader is not None, "spawn() first"
        return await asyncio.shield(self._reader)

    async def wait_ready(self, timeout_s: float) -> protocol.Ready:
        try:
            return await asyncio.wait_for(asyncio.shield(self.ready), timeout_s)
        except TimeoutError:
            self.kill()
            raise WorkerStartError(
                f"the worker {self.name} did not report ready within {timeout_s:g} s"
            ) from None

    async def reload(
        self, bundle: tuple[protocol.BundleEntry, ...], *, timeout_s: float
    ) -> protocol.Reloaded:
        reply: asyncio.Future[protocol.Reloaded | protocol.ReloadFailed]
        reply = asyncio.get_running_loop().create_future()
        self._reply = reply
        try:
            await self._send(protocol.Reload(bundle=bundle))
            answer = await asyncio.wait_for(asyncio.shield(reply), timeout_s)
        except TimeoutError:
            raise WorkerError(
                f"worker {self.name} did not confirm the reload within {timeout_s:g} s"
            ) from None
        finally:
            self._reply = None
        if isinstance(answer, protocol.ReloadFailed):
            raise WorkerError(f"worker {self.name} could not load the new code: {answer.message}")
        return answer

    async def stop(self) -> ExitInfo:
        """SIGTERM, a graceful wait, then the whole group is killed; how it ended."""
        proc = self._proc
        if proc is None or self._reader is None:
            raise WorkerError(f"worker {self.name} was never started")
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        try:
            info = await asyncio.wait_for(self.exited(), self._graceful_shutdown_s + 5)
        except TimeoutError:
            kill_group(proc.pid)
            info = await self.exited()
        # The group may hold grandchildren the worker started; none outlive it.
        kill_group(proc.pid)
        return info

    def kill(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            kill_group(self._proc.pid)

    async def _send(self, message: protocol.ManagerMessage) -> None:
        if self._proc is None or self._proc.stdin is None:
            raise WorkerError(f"worker {self.name} has no control pipe")
        self._proc.stdin.write(protocol.encode(message))
        await self._proc.stdin.drain()

    async def _read(self) -> ExitInfo:
        proc = self._proc
        assert proc is not None and proc.stdout is not None and proc.stderr is not None
        stderr = asyncio.create_task(self._drain_stderr(proc.stderr))
        last_error: str | None = None
        try:
            while line := await proc.stdout.readline():
                self.last_message = time.monotonic()
                try:
                    message = protocol.decode(line)
                except protocol.ProtocolError:
                    continue
                last_error = await self._dispatch(message) or last_error
            code = await proc.wait()
        finally:
            await asyncio.gather(stderr, return_exceptions=True)
            if self._cwd is not None:
                shutil.rmtree(self._cwd, ignore_errors=True)
        error = last_error or describe_exit(code)
        if not self.ready.done():
            self.ready.set_exception(
                WorkerStartError(f"the worker exited before it was ready: {error}")
            )
            self.ready.exception()  # retrieved here; waiters get it through shield
        return ExitInfo(
            code=code, error=last_error, stderr_tail="\n".join(self._stderr_tail), tasks=self.tasks
        )

    async def _dispatch(
        self, message: protocol.ManagerMessage | protocol.WorkerMessage
    ) -> str | None:
        if isinstance(message, protocol.Ready):
            log.info(
                "worker %s ready: %s in %d ms, then %d ms to poll",
                self.name,
                "forked" if self.forked else "exec'd",
                self._spawned_in_ms,
                message.startup_ms,
            )
            await self._notify(message)
            if not self.ready.done():
                self.ready.set_result(message)
        elif isinstance(message, protocol.Heartbeat):
            self.tasks = (message.tasks_completed, message.tasks_failed)
            await self._notify(message)
        elif isinstance(message, protocol.NodeStates):
            await self._notify(message)
        elif isinstance(message, protocol.Reloaded | protocol.ReloadFailed):
            if self._reply is not None and not self._reply.done():
                self._reply.set_result(message)
        elif isinstance(message, protocol.Error):
            return message.message
        elif isinstance(message, protocol.Stopped):
            self.tasks = (message.tasks_completed, message.tasks_failed)
        elif isinstance(message, protocol.SecretsRequest):
            # Answered beside the reading loop: heartbeats keep flowing meanwhile.
            task = asyncio.create_task(self._answer_secrets(message.request_id))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)
        return None

    async def _answer_secrets(self, request_id: int) -> None:
        answer = await self._read_secrets(request_id)
        with contextlib.suppress(WorkerError, ConnectionError):
            await self._send(answer)

    async def _read_secrets(self, request_id: int) -> protocol.Secrets:
        if self._secrets is None:
            return protocol.Secrets(request_id=request_id, error="this manager serves no secrets")
        try:
            values = dict(await self._secrets())
        except Exception as exc:
            # The worker's activity shows this message, and Temporal keeps it: the name of
            # the failure only; the details go to this process's log.
            log.exception("worker %s: reading its project's secrets failed", self.name)
            reason = f"the manager could not read them ({type(exc).__name__})"
            return protocol.Secrets(request_id=request_id, error=reason)
        return protocol.Secrets(request_id=request_id, values=values)

    async def _notify(self, message: Reported) -> None:
        try:
            await self._on_message(message)
        except Exception:
            # Recording it failed (a database blip): the process itself is fine, and the
            # next heartbeat records again.
            log.exception("worker %s: handling %s failed", self.name, type(message).__name__)

    async def _drain_stderr(self, stream: asyncio.StreamReader) -> None:
        # Always read it: a full pipe would block the worker on its next log line.
        while line := await stream.readline():
            text = line.decode("utf-8", "replace").rstrip()
            self._stderr_tail.append(text)
            log.debug("[%s] %s", self.name, text)
