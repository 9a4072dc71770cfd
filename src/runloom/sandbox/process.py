"""One runner process: start it, exchange framed JSON with it, kill it, say how it ended."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import select
import shutil
import signal
import struct
import tempfile
import time
from typing import Any

from runloom.sandbox.errors import SandboxError
from runloom.sandbox.jail import MAX_REPLY_BYTES, RUNNER_HOST_ID, Jail

__all__ = ["RunnerDied", "RunnerProcess", "encode"]

HEADER = struct.Struct(">I")
START_TIMEOUT_S = 30.0
# The runner bounds its replies (output, logs, messages); beyond this it misbehaves.
MAX_FRAME = MAX_REPLY_BYTES + 4 * 1024 * 1024
_STDERR_TAIL = 4096


class RunnerDied(SandboxError):
    """The runner's pipe closed or spoke nonsense; the caller explains why from its exit."""


class RunnerProcess:
    """A started runner, ready for one request at a time."""

    def __init__(self, process: asyncio.subprocess.Process, *, jailed: bool, workdir: str | None):
        self._process = process
        self._jailed = jailed
        self._workdir = workdir
        self._stderr: collections.deque[bytes] = collections.deque()
        self._stderr_task = asyncio.create_task(self._drain_stderr())
        self.calls = 0
        self.pid = process.pid

    @classmethod
    async def start(cls, jail: Jail) -> RunnerProcess:
        """Spawn a runner and wait until it has confined itself."""
        hello = jail.hello()
        if jail.isolation == "on":
            runner = await cls._spawn_jailed(jail)
        else:
            runner = await cls._spawn_plain(jail)
        try:
            await asyncio.wait_for(runner._handshake(hello), START_TIMEOUT_S)
        except (TimeoutError, RunnerDied) as err:
            await runner.kill()
            raise SandboxError(f"the python runner did not start: {runner.stderr_tail()}") from err
        except BaseException:
            await runner.kill()
            raise
        return runner

    @classmethod
    async def _spawn_jailed(cls, jail: Jail) -> RunnerProcess:
        if not jail.maps_ids:
            return cls(await _exec(jail.command(), pass_fds=()), jailed=True, workdir=None)
        info_r, info_w = os.pipe()
        block_r, block_w = os.pipe()
        try:
            command = jail.command(info_fd=info_w, block_fd=block_r)
            process = await _exec(command, pass_fds=(info_w, block_r))
        except BaseException:
            for fd in (info_r, info_w, block_r, block_w):
                os.close(fd)
            raise
        os.close(info_w)
        os.close(block_r)
        runner = cls(process, jailed=True, workdir=None)
        try:
            await asyncio.to_thread(_map_ids, info_r, block_w)
        except SandboxError as err:
            await runner.kill()
            raise SandboxError(f"{err}: {runner.stderr_tail()}") from err
        except BaseException:
            await runner.kill()
            raise
        return runner

    @classmethod
    async def _spawn_plain(cls, jail: Jail) -> RunnerProcess:
        workdir = tempfile.mkdtemp(prefix="runloom-runner-")
        try:
            process = await asyncio.create_subprocess_exec(
                *jail.python_argv(),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=jail.environment(home=workdir),
                cwd=workdir,
                start_new_session=True,
            )
        except BaseException:
            shutil.rmtree(workdir, ignore_errors=True)
            raise
        return cls(process, jailed=False, workdir=workdir)

    async def _handshake(self, hello: dict[str, Any]) -> None:
        ready = await self.exchange(encode(hello))
        if not ready.get("ready"):
            raise RunnerDied("the runner did not say it was ready")

    async def exchange(self, payload: bytes) -> dict[str, Any]:
        """Send one message (see ``encode``) and read the reply; ``RunnerDied`` if it fails."""
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(HEADER.pack(len(payload)) + payload)
            await stdin.drain()
            (size,) = HEADER.unpack(await stdout.readexactly(HEADER.size))
            if size > MAX_FRAME:
                raise RunnerDied(f"the runner sent a {size}-byte message")
            reply = json.loads(await stdout.readexactly(size))
        except (ConnectionError, asyncio.IncompleteReadError, ValueError) as err:
            raise RunnerDied(str(err)) from err
        if not isinstance(reply, dict):
            raise RunnerDied("the runner sent something other than an object")
        return reply

    @property
    def alive(self) -> bool:
        return self._process.returncode is None

    async def kill(self) -> None:
        """SIGKILL the runner's session; a jail's pid namespace dies with its first process."""
        # The whole group, stragglers too (a pgid is not reused while a member lives).
        # Not Popen.kill: it reaps a dead child itself, behind asyncio's child watcher.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        await self._close()

    async def _close(self) -> None:
        stdin = self._process.stdin
        if stdin is not None:
            stdin.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._process.wait(), 10)
        # The pipe ends with the last process holding it; if one lingers, stop reading.
        await asyncio.wait({self._stderr_task}, timeout=1)
        self._stderr_task.cancel()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)

    async def ending(self) -> str:
        """How the runner ended, once its pipe broke: "killed by SIGKILL", "exit status 3"."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._process.wait(), 2)
        code = self._process.returncode
        await self.kill()
        if code is None:
            return "it stopped answering"
        # bubblewrap reports a command killed by a signal as 128 + the signal's number.
        number = -code if code < 0 else code - 128 if self._jailed and code > 128 else 0
        if number:
            try:
                return f"killed by {signal.Signals(number).name}"
            except ValueError:
                return f"killed by signal {number}"
        return f"exit status {code}"

    def stderr_tail(self) -> str:
        text = b"".join(self._stderr).decode(errors="replace").strip()
        return text[-_STDERR_TAIL:] or "no error output"

    async def _drain_stderr(self) -> None:
        stream = self._process.stderr
        assert stream is not None
        size = 0
        with contextlib.suppress(ConnectionError):
            while chunk := await stream.read(4096):
                self._stderr.append(chunk)
                size += len(chunk)
                while size > _STDERR_TAIL and len(self._stderr) > 1:
                    size -= len(self._stderr.popleft())


def encode(message: dict[str, Any]) -> bytes:
    """A message for ``exchange``; ``TypeError`` or ``ValueError`` if it is not JSON."""
    return json.dumps(message, ensure_ascii=False).encode()


async def _exec(command: list[str], *, pass_fds: tuple[int, ...]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={},
        pass_fds=pass_fds,
        start_new_session=True,
    )


def _map_ids(info_fd: int, block_fd: int) -> None:
    """Give a root worker's jail root plus RUNNER_HOST_ID, then let bubblewrap go on."""
    try:
        info = _read_info(info_fd)
        pid = int(info["child-pid"])
        both = f"0 0 1\n{RUNNER_HOST_ID} {RUNNER_HOST_ID} 1\n"
        for name in ("uid_map", "gid_map"):
            with open(f"/proc/{pid}/{name}", "w") as f:  # noqa: PTH123
                f.write(both)
        os.write(block_fd, b"1")
    finally:
        os.close(info_fd)
        os.close(block_fd)


def _read_info(fd: int) -> dict[str, Any]:
    deadline = time.monotonic() + START_TIMEOUT_S
    data = b""
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
        with contextlib.suppress(ValueError):
            info = json.loads(data)
            if isinstance(info, dict):
                return info
    raise SandboxError(f"bubblewrap gave no child pid ({data[:200]!r})")
