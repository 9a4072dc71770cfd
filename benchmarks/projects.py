"""Many projects: P projects with an active worker each, 10 runs each started at once.

Every project gets a three-step workflow, built (so its worker runs) and run once. Then
P × 10 runs start through the API as fast as 64 connections allow; the clock stops when
the database has recorded every one as ended. Meanwhile the manager's and its workers'
memory (RSS and PSS) is sampled every second, and their CPU is counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from benchmarks.graphs import three_step_graph
from benchmarks.session import Deployed, Recorded, deploy
from benchmarks.stack import BenchStack, cpu_account, memory_mb

RUNS_EACH = 10
CONNECTIONS = 64


@dataclass
class Projects:
    projects: int
    runs: int
    manager_in: str = "manager"
    ready_s: float = 0.0
    drain_s: float = 0.0
    completed: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    peak: dict[str, float] = field(default_factory=dict)
    workers_seen: int = 0
    busy_retries: int = 0
    refused: dict[str, int] = field(default_factory=dict)

    @property
    def all_completed(self) -> bool:
        return self.completed == self.runs


async def _deploy_all(
    http: httpx.AsyncClient, headers: dict[str, str], count: int, advance: Callable[[], None]
) -> list[Deployed]:
    # Within what the compile pool takes at once (2 compiling, 4 queued by default).
    gate = asyncio.Semaphore(4)

    async def one(index: int) -> Deployed:
        async with gate:
            deployed = await deploy(
                http, headers, three_step_graph(), name=f"many-{index}", within_s=600
            )
            advance()
            return deployed

    return list(await asyncio.gather(*(one(i) for i in range(count))))


class _MemoryWatch:
    """Peak RSS and PSS of the manager alone, and of the manager with its workers."""

    def __init__(self, stack: BenchStack, manager_role: str) -> None:
        self.stack = stack
        self.manager_role = manager_role
        self.peak: dict[str, float] = {}
        self.workers_seen = 0

    def sample(self) -> None:
        roles = self.stack.processes()
        manager = [pid for pid, role in roles.items() if role == self.manager_role]
        workers = [pid for pid, role in roles.items() if role == "workers"]
        self.workers_seen = max(self.workers_seen, self.stack.worker_count(roles))
        figures = dict(zip(("manager_rss_mb", "manager_pss_mb"), memory_mb(manager), strict=True))
        both = memory_mb(manager + workers)
        figures.update(with_workers_rss_mb=both[0], with_workers_pss_mb=both[1])
        for name, value in figures.items():
            self.peak[name] = round(max(self.peak.get(name, 0.0), value), 1)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            began = time.perf_counter()
            await asyncio.to_thread(self.sample)
            # Reading hundreds of processes' memory costs CPU the runs need: at most a
            # tenth of the time goes to sampling.
            pause = max(1.0, 9 * (time.perf_counter() - began))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=pause)


async def _start_all(
    stack: BenchStack, headers: dict[str, str], deployed: list[Deployed], result: Projects
) -> None:
    """Starts every run, counting in `result` the 503s (busy, retry) met on the way and the
    starts refused otherwise (which then never run)."""
    queue = [d.workflow_id for d in deployed for _ in range(RUNS_EACH)]
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    gate = asyncio.Semaphore(CONNECTIONS)
    async with httpx.AsyncClient(
        base_url=stack.url, headers=headers, limits=limits, timeout=300
    ) as http:

        async def start(workflow_id: str, i: int) -> None:
            path = f"/api/workflows/{workflow_id}/executions"
            async with gate:
                # 503 says "busy, retry" (no database connection free in time): a client
                # does as told, and the report counts how often.
                while (
                    response := await http.post(path, json={"input": {"i": i}})
                ).status_code == 503:
                    result.busy_retries += 1
                    await asyncio.sleep(0.2)
                if response.status_code >= 400:
                    answer = f"{response.status_code} {response.text[:160]}"
                    result.refused[answer] = result.refused.get(answer, 0) + 1

        await asyncio.gather(*(start(w, i) for i, w in enumerate(queue)))


async def bench_projects(
    stack: BenchStack,
    http: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    count: int,
    advance: Callable[[], None] = lambda: None,
) -> Projects:
    result = Projects(projects=count, runs=count * RUNS_EACH)
    began = time.perf_counter()
    deployed = await _deploy_all(http, headers, count, advance)
    result.ready_s = time.perf_counter() - began
    roles = set(stack.processes().values())
    # The manager runs as its own process, or inside `runloom up` with the API.
    result.manager_in = "manager" if "manager" in roles else "api"
    watch = _MemoryWatch(stack, result.manager_in)
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch.run(stop))
    ids = [d.workflow_id for d in deployed]
    async with Recorded(stack.admin_url) as recorded:
        ended_before = sum((await recorded.counts(ids)).values())
        with cpu_account(stack, result.cpu):
            began = time.perf_counter()
            await _start_all(stack, headers, deployed, result)
            started = result.runs - sum(result.refused.values())
            counts = await recorded.until_done(
                ids, ended_before + started, within_s=1800, poll_s=0.1
            )
            result.drain_s = time.perf_counter() - began
    stop.set()
    await watcher
    result.by_status = counts
    # The build of each project completed once before.
    result.completed = counts.get("completed", 0) - count
    result.peak = watch.peak
    result.workers_seen = watch.workers_seen
    advance()
    return result
