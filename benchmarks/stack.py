"""The services `make bench` measures, and who spends the CPU and memory among them.

An embedded Postgres (with pg_stat_statements, to count the SQL of a start), a Temporal
dev server, `runloom up` as a subprocess (tests/live.py), and the hand-written baseline's
worker as a subprocess of its own, so that each has its own CPU account.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg
from tests.live import LiveStack, up_env

from benchmarks.chaos_stack import generous_limits
from runloom.db.migrate import migrate
from runloom.stack.ports import free_port
from runloom.stack.postgres import EmbeddedPostgres
from runloom.stack.temporal_server import TemporalDevServer

ROLES = ("temporal", "api", "manager", "workers", "postgres", "baseline worker", "client")


@dataclass
class BenchStack:
    work: Path
    postgres: EmbeddedPostgres = field(init=False)
    temporal: TemporalDevServer = field(init=False)
    live: LiveStack = field(init=False)
    baseline: subprocess.Popen[bytes] | None = None
    baseline_queue: str = "bench-baseline"
    commands: dict[int, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.live.url

    @property
    def admin_url(self) -> str:
        return self.postgres.url

    @property
    def temporal_address(self) -> str:
        return self.temporal.address

    def start(self) -> None:
        self.postgres = EmbeddedPostgres(
            self.work / "pg",
            free_port(),
            settings=(
                "shared_preload_libraries=pg_stat_statements",
                "pg_stat_statements.track=all",
            ),
        )
        self.temporal = TemporalDevServer(
            self.work / "temporal.db", port=free_port(), ui_port=free_port()
        )
        self.postgres.start()
        self.temporal.start()
        migrate(self.postgres.url)
        with psycopg.connect(self.postgres.url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        port = free_port()
        self.live = LiveStack(
            env=up_env(
                DATABASE_URL=self.postgres.url,
                TEMPORAL_ADDRESS=self.temporal.address,
                RUNLOOM_PORT=str(port),
                RUNLOOM_DATA_DIR=str(self.work / "data"),
                # Many projects, thousands of runs at once: quotas and rates far above what
                # the benchmarks use (they measure cost, not limits).
                **generous_limits(),
                # Idle workers must stay up between the measures that use them.
                RUNLOOM_WORKER_IDLE_TIMEOUT_S="3600",
            ),
            port=port,
            cwd=self.work,
        )
        self.live.start(timeout=120)
        with (self.work / "baseline.log").open("ab") as log:
            self.baseline = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from benchmarks.baseline import main; main()",
                    self.temporal.address,
                    self.baseline_queue,
                ],
                cwd=Path(__file__).resolve().parents[1],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        if self.baseline is not None:
            self.baseline.terminate()
            try:
                self.baseline.wait(20)
            except subprocess.TimeoutExpired:
                self.baseline.kill()
                self.baseline.wait()
        for stop in (
            getattr(self, "live", None) and self.live.stop,
            getattr(self, "temporal", None) and self.temporal.stop,
            getattr(self, "postgres", None) and self.postgres.stop,
        ):
            if stop:
                stop()

    # --- who is who ---------------------------------------------------------------------

    def roots(self) -> dict[str, int]:
        """The pid at the top of each role's process tree."""
        found = {"client": psutil.Process().pid}
        for role, owner in (("temporal", self.temporal), ("postgres", self.postgres)):
            process = getattr(owner, "_process", None)
            if process is not None:
                found[role] = process.pid
        if self.live.process is not None:
            found["api"] = self.live.process.pid
        if self.baseline is not None:
            found["baseline worker"] = self.baseline.pid
        return found

    def processes(self) -> dict[int, str]:
        """Every process of the run, by pid, with its role. `runloom up` holds the API; the
        manager may be a child process of it or live inside it; project workers (and their
        python-node runners) are found by their command line, wherever they hang."""
        # One pass over /proc: psutil's children() would scan it again for every process.
        children: dict[int, list[tuple[int, str]]] = {}
        self.commands = {}
        for process in psutil.process_iter(["ppid", "cmdline"]):
            command = " ".join(process.info["cmdline"] or ())
            self.commands[process.pid] = command
            children.setdefault(process.info["ppid"], []).append((process.pid, command))
        roles: dict[int, str] = {}
        for role, pid in self.roots().items():
            roles[pid] = role
            if role != "client":
                _classify(pid, role, children, roles)
        return roles

    def worker_count(self, roles: dict[int, str]) -> int:
        """Processes of `roles` that run a project worker (forked from a zygote or started
        on their own; a zygote counts too), not their python-node runners."""
        return sum(
            1
            for pid, role in roles.items()
            if role == "workers" and "runloom.worker" in self.commands.get(pid, "")
        )


def _role_of(command: str, inherited: str) -> str:
    if inherited not in ("api", "manager"):
        return inherited
    if "runloom.worker" in command or "zygote" in command:
        return "workers"
    if "manager" in command:
        return "manager"
    return inherited


def _classify(
    pid: int, role: str, children: dict[int, list[tuple[int, str]]], roles: dict[int, str]
) -> None:
    for child, command in children.get(pid, ()):
        child_role = _role_of(command, role)
        roles[child] = child_role
        _classify(child, child_role, children, roles)


def cpu_by_role(roles: dict[int, str]) -> dict[str, float]:
    """CPU seconds (user + system) so far of each role: a live process's own time plus that
    of the children it has reaped, so processes that ended in between still count."""
    totals: dict[str, float] = {}
    for pid, role in roles.items():
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        spent = times.user + times.system
        if role != "client":
            spent += times.children_user + times.children_system
        totals[role] = totals.get(role, 0.0) + spent
    return totals


@contextmanager
def cpu_account(stack: BenchStack, into: dict[str, float]) -> Iterator[None]:
    """Fills `into` with the CPU seconds each role spent inside the block."""
    before_roles = stack.processes()
    before = cpu_by_role(before_roles)
    yield
    roles = {**before_roles, **stack.processes()}
    after = cpu_by_role(roles)
    for role in after:
        spent = after[role] - before.get(role, 0.0)
        into[role] = round(max(0.0, spent), 2)


def memory_mb(pids: list[int]) -> tuple[float, float]:
    """(RSS, PSS) in MB summed over `pids`: PSS shares each page among its users, so the
    sum does not count shared pages twice."""
    rss = pss = 0.0
    for pid in pids:
        try:
            info = psutil.Process(pid).memory_full_info()
        except psutil.Error:
            continue
        rss += info.rss
        pss += getattr(info, "pss", info.uss)
    return rss / 1e6, pss / 1e6
