"""`make chaos`, part 1: the real services it runs, and the faults it can do to them.

An embedded Postgres, a Temporal dev server on a SQLite file (so a restart keeps every
run), one `runloom api` and two `runloom manager` processes, all in one temporary
directory, each with its own log file there.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from tests.live import up_env

import runloom
from runloom.db.migrate import migrate
from runloom.settings import Settings
from runloom.stack.ports import free_port
from runloom.stack.postgres import EmbeddedPostgres
from runloom.stack.temporal_server import TemporalDevServer

HEARTBEAT_S = "1"
_GENEROUS = 100_000


def generous_limits() -> dict[str, str]:
    """Every `RUNLOOM_RATE_*` and `RUNLOOM_QUOTA_*` setting the API knows, raised as far as
    its bounds allow: the chaos run measures faults, not limits."""
    values: dict[str, str] = {}
    for name, info in Settings.model_fields.items():
        if not name.startswith(("runloom_rate_", "runloom_quota_")):
            continue
        value = _GENEROUS
        for bound in info.metadata:
            le = getattr(bound, "le", None)
            lt = getattr(bound, "lt", None)
            if le is not None:
                value = min(value, int(le))
            if lt is not None:
                value = min(value, int(lt) - 1)
        values[name.upper()] = str(value)
    return values


@dataclass
class Managed:
    """One runloom process this run started."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    started_at: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None


class ChaosStack:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.logs = work / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        # Every runloom process of the run (a manager started again too) runs this copy of
        # the code: others may edit the checkout meanwhile.
        self.code = work / "src"
        shutil.copytree(
            Path(runloom.__file__).resolve().parents[1],
            self.code,
            ignore=shutil.ignore_patterns("__pycache__", "static"),
        )
        self.postgres = EmbeddedPostgres(work / "pg", free_port())
        ui_port = free_port()
        self.temporal = TemporalDevServer(
            work / "temporal" / "temporal.db",
            port=free_port(),
            ui_port=ui_port,
            log_file=self.logs / "temporal.log",
        )
        self.ui_url = f"http://127.0.0.1:{ui_port}"
        self.api_port = free_port()
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.jwt_secret = secrets.token_hex(32)
        self.api: Managed | None = None
        self.managers: list[Managed] = []
        self.exited: list[str] = []  # processes found dead that nobody killed
        self.killed: set[int] = set()

    # --- starting ---------------------------------------------------------------------

    def start_services(self) -> None:
        self.postgres.start()
        self.temporal.start()
        migrate(self.postgres.url)

    def env(self) -> dict[str, str]:
        return up_env(
            DATABASE_URL=self.postgres.url,
            TEMPORAL_ADDRESS=self.temporal.address,
            TEMPORAL_UI_URL=self.ui_url,
            RUNLOOM_PORT=str(self.api_port),
            RUNLOOM_JWT_SECRET=self.jwt_secret,
            RUNLOOM_DATA_DIR=str(self.work / "data"),
            RUNLOOM_WORKER_HEARTBEAT_S=HEARTBEAT_S,
            RUNLOOM_DB_POOL_SIZE="20",
            PYTHONPATH=str(self.code),
            **generous_limits(),
        )

    def _spawn(self, command: str, name: str) -> Managed:
        log = self.logs / f"{name}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "runloom.cli", command],
                env=self.env(),
                # Its own directory: no `.env.local` of the checkout is read.
                cwd=self.work,
                stdout=out,
                stderr=out,
                stdin=subprocess.DEVNULL,
            )
        return Managed(name=name, process=process, log=log)

    def start_api(self, *, timeout: float = 60.0) -> None:
        self.api = self._spawn("api", "api")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.api.alive():
                raise RuntimeError(f"runloom api exited: {self.api.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"runloom api did not become healthy within {timeout:.0f} s")

    def start_manager(self, index: int) -> Managed:
        generation = sum(1 for m in self.managers if m.name.startswith(f"manager{index}"))
        manager = self._spawn("manager", f"manager{index}-{generation}")
        if index < len(self.managers):
            self.managers[index] = manager
        else:
            self.managers.append(manager)
        return manager

    # --- what is running --------------------------------------------------------------

    def worker_processes(self) -> list[tuple[int, psutil.Process]]:
        """(manager index, process) of every project worker the live managers run."""
        found = []
        for index, manager in enumerate(self.managers):
            if not manager.alive():
                continue
            try:
                children = psutil.Process(manager.pid).children()
            except psutil.NoSuchProcess:
                continue
            for child in children:
                try:
                    if "runloom.worker" in child.cmdline():
                        found.append((index, child))
                except psutil.Error:
                    continue
        return found

    def check_alive(self) -> list[str]:
        """Names of runloom processes that exited without being killed by this run."""
        dead = [
            m.name
            for m in [self.api, *self.managers]
            if m is not None and not m.alive() and m.pid not in self.killed
        ]
        for name in dead:
            if name not in self.exited:
                self.exited.append(name)
        return dead

    # --- faults -----------------------------------------------------------------------

    def kill_manager(self, index: int) -> list[int]:
        """SIGKILL the manager; the pids of the workers it had (now orphans)."""
        manager = self.managers[index]
        workers = [p.pid for i, p in self.worker_processes() if i == index]
        self.killed.add(manager.pid)
        os.kill(manager.pid, signal.SIGKILL)
        manager.process.wait()
        return workers

    def restart_temporal(self, down_s: float) -> None:
        self.temporal.stop()
        time.sleep(down_s)
        self.temporal.start(timeout=90)

    def stop_postgres(self) -> None:
        self.postgres.stop()

    def start_postgres(self) -> None:
        self.postgres.start(timeout=90)

    # --- stopping ---------------------------------------------------------------------

    def stop(self) -> None:
        for managed in [*self.managers, self.api]:
            if managed is not None and managed.alive():
                managed.process.send_signal(signal.SIGINT)
        for managed in [*self.managers, self.api]:
            if managed is None:
                continue
            try:
                managed.process.wait(45)
            except subprocess.TimeoutExpired:
                managed.process.kill()
                managed.process.wait()
        self.temporal.stop()
        self.postgres.stop()


def pids_alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            process = psutil.Process(pid)
            if process.status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            continue
    return alive


def describe(value: Any) -> str:
    text = str(value)
    return text if len(text) < 200 else text[:197] + "…"
