"""The manager's side of the zygote (:mod:`runloom.worker.zygote`): start it once, ask it
for workers, and learn how each one ended.

A :class:`Zygote` starts its process on the first :meth:`Zygote.fork` and again after it
died. A forked worker is a :class:`ForkedProcess`: pipes for stdin, stdout and stderr
like an exec'd one's, an exit code that the zygote reports, signals sent by pid. If the
zygote dies, its workers die with it (they asked the kernel for that), and each ends with
SIGKILL here, so that the manager restarts them as after any crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import signal
import socket
import time
from collections.abc import Mapping, Sequence
from typing import Any

from runloom.errors import RunloomError

__all__ = [
    "SOCKET_FD",
    "ForkedProcess",
    "Zygote",
    "ZygoteError",
    "close_zygotes",
    "shared_zygote",
]

log = logging.getLogger(__name__)

# Cold imports on a loaded machine take seconds; a zygote slower than this is given up
# (the worker is exec'd instead) and tried again for the next worker.
READY_TIMEOUT_S = 60.0
_REPLY_TIMEOUT_S = 15.0
# After a zygote failed to start, workers are exec'd for this long before it is tried again.
RETRY_AFTER_S = 60.0
# Where the zygote finds its end of the socketpair.
SOCKET_FD = 3


class ZygoteError(RunloomError):
    """The zygote could not be started or did not fork a worker."""


class ForkedProcess:
    """A worker forked by the zygote, with the interface of an asyncio subprocess."""

    def __init__(
        self,
        *,
        pid: int,
        stdin: asyncio.StreamWriter,
        stdout: asyncio.StreamReader,
        stderr: asyncio.StreamReader,
        ended: asyncio.Future[int],
    ) -> None:
        self.pid = pid
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self._exit = ended

    @property
    def returncode(self) -> int | None:
        return self._exit.result() if self._exit.done() else None

    async def wait(self) -> int:
        code = await asyncio.shield(self._exit)
        self.stdin.close()
        return code

    def send_signal(self, signum: int) -> None:
        # Once the zygote reported the exit, the pid may belong to another process.
        if not self._exit.done():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signum)


class Zygote:
    """One zygote process for workers of one command line and environment."""

    def __init__(self, *, command: Sequence[str], env: Mapping[str, str]) -> None:
        self.command = list(command)
        self.env = dict(env)
        self.loop = asyncio.get_running_loop()
        self.pid: int | None = None
        self._sock: socket.socket | None = None
        self._starting = asyncio.Lock()
        self._ids = itertools.count(1)
        self._replies: dict[int, asyncio.Future[int]] = {}
        self._exits: dict[int, asyncio.Future[int]] = {}
        # A pidfd per live worker: it names the process even after the zygote is gone
        # (its pid could be reused then), to kill it and to hear it end.
        self._pidfds: dict[int, int] = {}
        self._ready: asyncio.Future[None] | None = None
        self._closed = False
        self._failed_at = float("-inf")

    async def fork(self, *, cwd: str, limit: int) -> ForkedProcess:
        """A new worker process in ``cwd``, started by the zygote (started first if need be);
        ZygoteError if the zygote cannot start or fork."""
        sock = await self._started()
        ends = [os.pipe() for _ in range(3)]
        theirs = [ends[0][0], ends[1][1], ends[2][1]]
        ours = [ends[0][1], ends[1][0], ends[2][0]]
        ident = next(self._ids)
        reply = self._replies[ident] = self.loop.create_future()
        try:
            request = json.dumps({"id": ident, "cwd": cwd}).encode()
            socket.send_fds(sock, [request], theirs)
        except OSError as exc:
            self._close_fds(ours)
            raise ZygoteError(f"cannot reach the zygote: {exc}") from exc
        finally:
            self._close_fds(theirs)
        try:
            pid = await asyncio.wait_for(reply, _REPLY_TIMEOUT_S)
        except BaseException as exc:
            self._close_fds(ours)
            if isinstance(exc, TimeoutError):
                raise ZygoteError("the zygote did not answer a fork request") from None
            raise
        finally:
            self._replies.pop(ident, None)
        return await self._attach(pid, ours, limit)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Let go of the zygote: it forks no more and exits once its workers have (whose
        exits are still reported here meanwhile)."""
        self._closed = True
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_WR)

    # --- starting ---------------------------------------------------------------------

    async def _started(self) -> socket.socket:
        async with self._starting:
            if self._closed:
                raise ZygoteError("the zygote was closed")
            if self._sock is None:
                since = time.monotonic() - self._failed_at
                if since < RETRY_AFTER_S:
                    raise ZygoteError(
                        f"the zygote failed to start less than {RETRY_AFTER_S:g} s ago"
                    )
                try:
                    await self._start()
                except ZygoteError:
                    self._failed_at = time.monotonic()
                    raise
            assert self._sock is not None
            return self._sock

    async def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.pid = _spawn(self.command, self.env, theirs.fileno())
        except OSError as exc:
            ours.close()
            raise ZygoteError(f"cannot start the zygote: {exc}") from exc
        finally:
            theirs.close()
        ours.setblocking(False)
        self._sock = ours
        self._ready = self.loop.create_future()
        self.loop.add_reader(ours.fileno(), self._on_readable, ours)
        self._watch_exit(self.pid)
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), READY_TIMEOUT_S)
        except TimeoutError:
            self._kill()
            self._lost("the zygote was not ready in time")
            raise ZygoteError(f"the zygote was not ready within {READY_TIMEOUT_S:g} s") from None
        except ZygoteError:
            self._kill()
            raise

    def _watch_exit(self, pid: int) -> None:
        # Reaped as soon as it exits: no zombie, and its death is noticed even before its
        # socket's end is.
        try:
            pidfd = os.pidfd_open(pid)
        except OSError as exc:  # before Linux 5.3: reaped when its socket closes instead
            log.info("cannot watch the zygote %d for its exit: %s", pid, exc)
            return

        def reap() -> None:
            self.loop.remove_reader(pidfd)
            os.close(pidfd)
            with contextlib.suppress(ChildProcessError):
                _, status = os.waitpid(pid, 0)
                log.info("the zygote %d ended (%s)", pid, os.waitstatus_to_exitcode(status))

        self.loop.add_reader(pidfd, reap)

    def _kill(self) -> None:
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    # --- what the zygote says ---------------------------------------------------------

    def _on_readable(self, sock: socket.socket) -> None:
        while sock is self._sock:
            try:
                data = sock.recv(64 * 1024)
            except BlockingIOError:
                return
            except OSError as exc:
                self._lost(f"the zygote's socket failed: {exc}")
                return
            if not data:
                self._lost("the zygote exited")
                return
            with contextlib.suppress(ValueError, TypeError, KeyError):
                self._on_message(json.loads(data))

    def _on_message(self, message: dict[str, Any]) -> None:
        if "ready" in message:
            log.info(
                "zygote %s ready (preloaded in %s ms)", message["ready"], message["preload_ms"]
            )
            if self._ready is not None and not self._ready.done():
                self._ready.set_result(None)
        elif "exit" in message:
            self._forget_pidfd(int(message["exit"]))
            exited = self._exits.pop(int(message["exit"]), None)
            if exited is not None and not exited.done():
                exited.set_result(int(message["code"]))
        elif "id" in message:
            reply = self._replies.get(int(message["id"]))
            if reply is None or reply.done():
                return
            if "pid" in message:
                # Registered now, before any later message can report its exit.
                pid = int(message["pid"])
                self._exits[pid] = self.loop.create_future()
                # Not reaped before its exit is reported, so the pid is still its own.
                with contextlib.suppress(OSError):
                    self._pidfds[pid] = os.pidfd_open(pid)
                reply.set_result(pid)
            else:
                reply.set_exception(ZygoteError(str(message.get("error"))))

    def _lost(self, reason: str) -> None:
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if not self.loop.is_closed():
            self.loop.remove_reader(sock.fileno())
        sock.close()
        if self.pid is not None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, os.WNOHANG)
        error = ZygoteError(reason)
        for future in [self._ready, *self._replies.values()]:
            if future is not None and not future.done():
                future.set_exception(error)
                future.exception()  # seen here; the waiters get it too
        # Its workers get SIGKILL from the kernel (PR_SET_PDEATHSIG), but only after the
        # zygote's socket closed: kill them here too, and report each exit once it has
        # happened, so that no replacement starts while the old worker still runs.
        for pid in list(self._exits):
            self._end_orphan(pid)

    def _end_orphan(self, pid: int) -> None:
        exited = self._exits[pid]
        pidfd = self._pidfds.get(pid)

        def gone() -> None:
            self._forget_pidfd(pid)
            self._exits.pop(pid, None)
            if not exited.done():
                exited.set_result(-signal.SIGKILL)

        if pidfd is None or exited.done() or self.loop.is_closed():
            gone()
            return
        try:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        except ProcessLookupError:
            pass  # it has ended: the pidfd is readable already
        except OSError:
            gone()
            return
        self.loop.add_reader(pidfd, gone)

    def _forget_pidfd(self, pid: int) -> None:
        pidfd = self._pidfds.pop(pid, None)
        if pidfd is None:
            return
        if not self.loop.is_closed():
            self.loop.remove_reader(pidfd)
        os.close(pidfd)

    async def _attach(self, pid: int, fds: list[int], limit: int) -> ForkedProcess:
        ended = self._exits.get(pid)
        if ended is None:  # the zygote died meanwhile
            ended = self.loop.create_future()
            ended.set_result(-signal.SIGKILL)
        stdin_w, stdout_r, stderr_r = fds
        stdout = await self._reader(stdout_r, limit)
        stderr = await self._reader(stderr_r, limit)
        transport, protocol = await self.loop.connect_write_pipe(
            lambda: asyncio.streams.FlowControlMixin(self.loop), os.fdopen(stdin_w, "wb", 0)
        )
        stdin = asyncio.StreamWriter(transport, protocol, None, self.loop)
        return ForkedProcess(pid=pid, stdin=stdin, stdout=stdout, stderr=stderr, ended=ended)

    async def _reader(self, fd: int, limit: int) -> asyncio.StreamReader:
        reader = asyncio.StreamReader(limit=limit, loop=self.loop)
        await self.loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", 0)
        )
        return reader

    @staticmethod
    def _close_fds(fds: list[int]) -> None:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)


def _spawn(command: Sequence[str], env: Mapping[str, str], fd: int) -> int:
    # dup2 of a descriptor onto itself would leave it close-on-exec.
    moved = os.dup(fd) if fd == SOCKET_FD else None
    try:
        return os.posix_spawn(
            command[0],
            [*command, str(SOCKET_FD)],
            dict(env),
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_DUP2, fd if moved is None else moved, SOCKET_FD),
            ],
            # Its own session: the manager's Ctrl-C is not its, nor its workers'.
            setsid=True,
        )
    finally:
        if moved is not None:
            os.close(moved)


_SHARED: dict[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], Zygote] = {}


def shared_zygote(command: Sequence[str], env: Mapping[str, str]) -> Zygote:
    """The zygote of this process (and event loop) for ``command`` and ``env``."""
    key = (tuple(command), tuple(sorted(env.items())))
    zygote = _SHARED.get(key)
    if zygote is None or zygote.closed or zygote.loop is not asyncio.get_running_loop():
        if zygote is not None:
            zygote.close()
        zygote = _SHARED[key] = Zygote(command=command, env=env)
    return zygote


def close_zygotes() -> None:
    """Let go of every zygote of this process (each exits once its workers have)."""
    for zygote in _SHARED.values():
        zygote.close()
    _SHARED.clear()
