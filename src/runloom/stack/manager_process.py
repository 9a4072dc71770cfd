"""The manager under `runloom up`: its own child process, so the API's event loop serves
requests only, restarted (after a short backoff) if it dies.

The child is `python -m runloom.cli manager --parent-pid <up's pid>`: the same settings environment
and working directory (so the data directory, its secrets key and `.env` files resolve the
same), plus the addresses of the services `up` started. It runs in its own process group,
so a Ctrl-C at the terminal reaches `up` alone, which stops the API first and then the
manager (which stops its workers); the child dies with `up` if `up` is killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["ManagerProcess", "ManagerRestarts", "die_with_parent", "manager_environment"]

_PR_SET_PDEATHSIG = 1

Report = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ManagerRestarts:
    """Backoff between restarts: doubling from ``first_s`` up to ``max_s``, back to
    ``first_s`` once a manager has stayed up for ``healthy_s``."""

    first_s: float = 1.0
    max_s: float = 30.0
    healthy_s: float = 60.0

    def next_delay(self, previous_s: float | None, *, ran_s: float) -> float:
        if previous_s is None or ran_s >= self.healthy_s:
            return self.first_s
        return min(previous_s * 2, self.max_s)


def manager_environment(
    base: Mapping[str, str], *, database_url: str, temporal_address: str, data_dir: str
) -> dict[str, str]:
    """The child's environment: this one, pointed at the services `up` runs."""
    return {
        **base,
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": temporal_address,
        "RUNLOOM_DATA_DIR": data_dir,
    }


class ManagerProcess:
    """Runs the manager child until ``stop``; restarts it when it dies."""

    def __init__(
        self,
        *,
        env: Mapping[str, str],
        report: Report,
        restarts: ManagerRestarts = ManagerRestarts(),
        stop_timeout_s: float = 30.0,
        command: tuple[str, ...] | None = None,
    ) -> None:
        self._env = dict(env)
        self._report = report
        self._restarts = restarts
        self._stop_timeout_s = stop_timeout_s
        self._command = command or (
            sys.executable,
            "-m",
            "runloom.cli",
            "manager",
            "--parent-pid",
            str(os.getpid()),
        )
        self._stopping = asyncio.Event()
        self.pid: int | None = None

    def stop(self) -> None:
        """Ask ``run`` to stop the manager (SIGTERM, then SIGKILL after the timeout)."""
        self._stopping.set()

    async def run(self) -> int | None:
        """Keep a manager running until ``stop``; the last one's exit code."""
        loop = asyncio.get_running_loop()
        delay: float | None = None
        while not self._stopping.is_set():
            began = loop.time()
            process = await asyncio.create_subprocess_exec(
                *self._command, env=self._env, process_group=0
            )
            self.pid = process.pid
            exited = asyncio.ensure_future(process.wait())
            stopping = asyncio.ensure_future(self._stopping.wait())
            await asyncio.wait({exited, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if self._stopping.is_set():
                return await self._terminate(process, exited)
            delay = self._restarts.next_delay(delay, ran_s=loop.time() - began)
            self._report(
                f"the manager process exited with {exited.result()}; restarting it in {delay:.0f} s"
            )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._stopping.wait()
        return None

    async def _terminate(
        self, process: asyncio.subprocess.Process, exited: asyncio.Future[int]
    ) -> int:
        if not exited.done():
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        await asyncio.wait({exited}, timeout=self._stop_timeout_s)
        if not exited.done():
            self._report("the manager did not stop in time; killing it")
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        return await exited


def die_with_parent(parent_pid: int) -> None:
    """SIGKILL this process when its parent (`runloom up`, ``parent_pid``) ends, however
    it ends: a manager without its `up` would hold projects nobody can stop."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # it ended before the request was in place
        os._exit(0)
