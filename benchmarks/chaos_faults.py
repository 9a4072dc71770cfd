"""`make chaos`, part 3: the fault injector, and the watch kept on `/api/health`."""

from __future__ import annotations

import asyncio
import random
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import psutil
import psycopg

from benchmarks.chaos_stack import ChaosStack

WORKER_KILLS = 20
TEMPORAL_DOWN_S = 3.0
POSTGRES_DOWN_S = 5.0


@dataclass
class Fault:
    at: float  # monotonic
    kind: str
    detail: str
    down_at: float | None = None  # infrastructure faults: when it went away
    up_at: float | None = None  # and when it was serving again


@dataclass
class HealthSample:
    at: float
    status: int  # 0: no answer
    body: dict[str, Any] | None
    took_s: float = 0.0


@dataclass
class HealthWatch:
    """`/api/health` four times a second; a health answer later than ``timeout_s`` counts
    as none. Also how late this process's own event loop woke (``lag_s``), so that a slow
    answer can be told from a busy driver."""

    url: str
    every_s: float = 0.25
    timeout_s: float = 10.0
    samples: list[HealthSample] = field(default_factory=list)
    lag_s: float = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=self.timeout_s) as client:
            while not stop.is_set():
                at = time.monotonic()
                try:
                    response = await client.get("/api/health")
                    try:
                        body = response.json()
                    except ValueError:
                        body = None
                    took = time.monotonic() - at
                    self.samples.append(HealthSample(at, response.status_code, body, took))
                except httpx.TransportError as exc:
                    error = {"error": type(exc).__name__}
                    self.samples.append(HealthSample(at, 0, error, time.monotonic() - at))
                wake = at + self.every_s
                if wake > time.monotonic():
                    await asyncio.sleep(wake - time.monotonic())
                    self.lag_s = max(self.lag_s, time.monotonic() - wake)


@dataclass
class RegistryWatch:
    """How many projects have a running worker whose manager vouched for it lately."""

    database_url: str
    every_s: float = 0.5
    samples: list[tuple[float, int | None]] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            at = time.monotonic()
            live: int | None = None
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.database_url, connect_timeout=2
                ) as conn:
                    row = await (
                        await conn.execute(
                            "SELECT count(DISTINCT project_id) FROM public.workflow_workers "
                            "WHERE status = 'running' "
                            "AND last_heartbeat > NOW() - interval '3 seconds'"
                        )
                    ).fetchone()
                    live = int(row[0]) if row else 0
            except (psycopg.Error, OSError):
                live = None
            self.samples.append((at, live))
            await asyncio.sleep(max(0.0, at + self.every_s - time.monotonic()))

    def all_back(self, since: float, projects: int) -> float | None:
        """Seconds from ``since`` until every project had a live worker again."""
        dipped = False
        for at, live in self.samples:
            if at < since:
                continue
            if live is not None and live < projects:
                dipped = True
            if dipped and live == projects:
                return at - since
        return 0.0 if not dipped else None


@dataclass
class Injector:
    stack: ChaosStack
    duration_s: float
    faults: list[Fault] = field(default_factory=list)
    orphans: list[int] = field(default_factory=list)  # workers of the killed manager
    killed_manager_led: bool | None = None
    kills_by_project: Counter[str] = field(default_factory=Counter)
    _killing: asyncio.Lock = field(default_factory=asyncio.Lock)
    on_fault: Callable[[Fault], None] = lambda _: None

    async def run(self) -> None:
        """Faults at fixed fractions of the load's duration, worker kills in between."""
        d = self.duration_s
        plan: list[tuple[float, Callable[[], Any]]] = [
            (d * (0.05 + 0.9 * k / (WORKER_KILLS - 1)), self._kill_worker)
            for k in range(WORKER_KILLS)
        ]
        plan += [
            (d * 0.22, self._kill_manager),
            (d * 0.45, self._restart_temporal),
            (d * 0.70, self._restart_postgres),
        ]
        plan.sort(key=lambda item: item[0])
        begun = time.monotonic()
        running: list[asyncio.Task[None]] = []
        for offset, action in plan:
            await asyncio.sleep(max(0.0, begun + offset - time.monotonic()))
            # Outages take seconds; the worker kills go on meanwhile.
            running.append(asyncio.create_task(action()))
        await asyncio.gather(*running)

    def _record(self, fault: Fault) -> None:
        self.faults.append(fault)
        self.on_fault(fault)

    async def _kill_worker(self) -> None:
        async with self._killing:  # one victim at a time, never the same one twice
            await self._kill_one_worker()

    async def _kill_one_worker(self) -> None:
        for _ in range(20):
            workers = await asyncio.to_thread(self.stack.worker_processes)
            if workers:
                break
            await asyncio.sleep(0.5)
        else:
            self._record(Fault(time.monotonic(), "worker kill", "skipped: no worker running"))
            return
        projects = await asyncio.to_thread(self._projects_of, [p.pid for _, p in workers])
        # The least-killed project first, so that kills spread over every project.
        rng = random.Random()  # noqa: S311 (choosing a victim, not a secret)
        rng.shuffle(workers)
        workers.sort(key=lambda w: self.kills_by_project[projects.get(w[1].pid, "")])
        index, process = workers[0]
        project = projects.get(process.pid, "")
        try:
            process.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            return
        self.kills_by_project[project] += 1
        self._record(
            Fault(
                time.monotonic(),
                "worker kill",
                f"SIGKILL worker pid {process.pid} of project {project[:8]} (manager {index})"
                if project
                else f"SIGKILL worker pid {process.pid} (manager {index}; no running row "
                "named it: still starting, or the database away)",
            )
        )

    def _projects_of(self, pids: list[int]) -> dict[int, str]:
        """Which project each worker pid serves, from the registry (empty if it is down)."""
        try:
            with psycopg.connect(self.stack.postgres.url, connect_timeout=2) as conn:
                rows = conn.execute(
                    "SELECT process_id::text, project_id::text FROM public.workflow_workers "
                    "WHERE process_id::text = ANY(%s::text[]) AND status = 'running'",
                    ([str(p) for p in pids],),
                ).fetchall()
            return {int(pid): str(project) for pid, project in rows}
        except psycopg.Error:
            return {}

    async def _kill_manager(self) -> None:
        leader = await asyncio.to_thread(self._tracker_leader)
        index = leader if leader is not None else 0
        self.killed_manager_led = leader is not None
        at = time.monotonic()
        orphans = await asyncio.to_thread(self.stack.kill_manager, index)
        self.orphans.extend(orphans)
        await asyncio.sleep(1.0)
        await asyncio.to_thread(self.stack.start_manager, index)
        role = "the tracker's leader" if leader is not None else "not the tracker's leader"
        self._record(
            Fault(
                at,
                "manager kill",
                f"SIGKILL manager {index} ({role}, {len(orphans)} workers), "
                "started again 1 s later",
                down_at=at,
                up_at=time.monotonic(),
            )
        )

    def _tracker_leader(self) -> int | None:
        """Which manager holds the tracker's advisory lock: the Postgres backend holding it,
        its client port, and the manager process with a socket on that port."""
        try:
            with psycopg.connect(self.stack.postgres.url, connect_timeout=2) as conn:
                row = conn.execute(
                    "SELECT a.client_port FROM pg_locks AS l "
                    "JOIN pg_stat_activity AS a ON a.pid = l.pid "
                    "WHERE l.locktype = 'advisory' AND l.granted"
                ).fetchone()
        except psycopg.Error:
            return None
        if row is None:
            return None
        for index, manager in enumerate(self.stack.managers):
            try:
                ports = {c.laddr.port for c in psutil.Process(manager.pid).net_connections("tcp")}
            except psutil.Error:
                continue
            if row[0] in ports:
                return index
        return None

    async def _restart_temporal(self) -> None:
        fault = Fault(time.monotonic(), "Temporal restart", "")
        fault.down_at = time.monotonic()
        await asyncio.to_thread(self.stack.restart_temporal, TEMPORAL_DOWN_S)
        fault.up_at = time.monotonic()
        fault.detail = (
            f"stop + start on the same SQLite file and port; serving again "
            f"{fault.up_at - fault.down_at:.1f} s after the stop"
        )
        self._record(fault)

    async def _restart_postgres(self) -> None:
        fault = Fault(time.monotonic(), "Postgres restart", "")
        fault.down_at = time.monotonic()
        await asyncio.to_thread(self.stack.stop_postgres)
        await asyncio.sleep(POSTGRES_DOWN_S)
        await asyncio.to_thread(self.stack.start_postgres)
        fault.up_at = time.monotonic()
        fault.detail = (
            f"fast shutdown, {POSTGRES_DOWN_S:g} s down, start on the same data directory; "
            f"accepting connections {fault.up_at - fault.down_at:.1f} s after the stop"
        )
        self._record(fault)


@dataclass(frozen=True)
class Outage:
    kind: str
    window_s: float  # from the first non-200 health answer to the first 200 after it
    recovery_s: float | None  # from the service serving again to health answering 200
    bad_answers: list[str]  # health answers in the window that were not 503 + JSON detail
    details: Counter[str]  # what the 503s said
    slowest_s: float  # the longest a health answer took in the window


def outage_of(fault: Fault, samples: list[HealthSample]) -> Outage:
    assert fault.down_at is not None and fault.up_at is not None
    after = [s for s in samples if s.at >= fault.down_at]
    recovered = next((s for s in after if s.at >= fault.up_at and s.status == 200), None)
    end = recovered.at if recovered else float("inf")
    window = [s for s in after if s.at < end and s.status != 200]
    bad = [
        f"{s.status or 'no answer'} {s.body}"
        for s in window
        if s.status != 503 or not isinstance((s.body or {}).get("detail"), str)
    ]
    return Outage(
        kind=fault.kind,
        window_s=(end - window[0].at) if window and recovered else 0.0,
        recovery_s=(recovered.at - fault.up_at) if recovered else None,
        bad_answers=bad,
        details=Counter(str((s.body or {}).get("detail")) for s in window if s.status == 503),
        slowest_s=max((s.took_s for s in window), default=0.0),
    )
