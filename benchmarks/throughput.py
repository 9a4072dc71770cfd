"""Throughput: N three-step runs, through runloom and hand-written, side by side.

runloom: 16 clients, one HTTP connection each, start the runs through the API; the clock
stops when the database has recorded all N as completed. Hand-written: 16 starters, one
Temporal client (connection) each, start the same number of `bench_three_steps` runs on
the baseline worker, and the clock stops when every result is in. The modes alternate,
repeat after repeat, and the CPU each process spent is counted for both.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from temporalio.client import Client, WorkflowHandle

from benchmarks.graphs import three_step_graph
from benchmarks.session import BenchError, Deployed, Recorded, check, deploy
from benchmarks.stack import BenchStack, cpu_account

CLIENTS = 16


@dataclass
class Throughput:
    runs: int
    runloom_per_s: list[float] = field(default_factory=list)
    baseline_per_s: list[float] = field(default_factory=list)
    runloom_cpu: dict[str, float] = field(default_factory=dict)
    baseline_cpu: dict[str, float] = field(default_factory=dict)
    incomplete: int = 0


def _shares(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


async def _through_runloom(
    stack: BenchStack, headers: dict[str, str], deployed: Deployed, runs: int, recorded: Recorded
) -> tuple[float, int]:
    """Runs per second, and how many did not complete."""
    counts = await recorded.counts([deployed.workflow_id])
    before, ended_before = counts.get("completed", 0), sum(counts.values())
    path = f"/api/workflows/{deployed.workflow_id}/executions"

    async def client(share: int, offset: int) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(
            base_url=stack.url, headers=headers, limits=limits, timeout=120
        ) as http:
            for i in range(share):
                check(await http.post(path, json={"input": {"i": offset + i}}))

    began = time.perf_counter()
    offsets = [sum(_shares(runs, CLIENTS)[:k]) for k in range(CLIENTS)]
    await asyncio.gather(
        *(client(s, o) for s, o in zip(_shares(runs, CLIENTS), offsets, strict=True))
    )
    counts = await recorded.until_done(
        [deployed.workflow_id], expected=ended_before + runs, within_s=600, poll_s=0.02
    )
    elapsed = time.perf_counter() - began
    completed = counts.get("completed", 0) - before
    return completed / elapsed, runs - completed


async def _hand_written(clients: list[Client], task_queue: str, runs: int) -> tuple[float, int]:
    handles: list[WorkflowHandle[Any, Any]] = []

    async def starter(client: Client, share: int, offset: int) -> None:
        for i in range(share):
            handles.append(
                await client.start_workflow(
                    "bench_three_steps",
                    {"i": offset + i},
                    id=f"bench-three-{uuid.uuid4()}",
                    task_queue=task_queue,
                )
            )

    shares = _shares(runs, CLIENTS)
    offsets = [sum(shares[:k]) for k in range(CLIENTS)]
    began = time.perf_counter()
    await asyncio.gather(
        *(starter(c, s, o) for c, s, o in zip(clients, shares, offsets, strict=True))
    )
    results = await asyncio.gather(*(h.result() for h in handles), return_exceptions=True)
    elapsed = time.perf_counter() - began
    failed = sum(isinstance(r, BaseException) for r in results)
    return (runs - failed) / elapsed, failed


def _add(into: dict[str, float], spent: dict[str, float]) -> None:
    for role, seconds in spent.items():
        into[role] = into.get(role, 0.0) + seconds


async def bench_throughput(
    stack: BenchStack,
    http: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    runs: int,
    repeats: int,
    advance: Callable[[], None] = lambda: None,
) -> Throughput:
    deployed = await deploy(http, headers, three_step_graph(), name="throughput")
    clients = [await Client.connect(stack.temporal_address) for _ in range(CLIENTS)]
    # One warm-up run each, so neither pays for first connections and caches.
    await clients[0].execute_workflow(
        "bench_three_steps", {}, id=f"warm-{uuid.uuid4()}", task_queue=stack.baseline_queue
    )
    result = Throughput(runs=runs)
    async with Recorded(stack.admin_url) as recorded:
        for _ in range(repeats):
            spent: dict[str, float] = {}
            with cpu_account(stack, spent):
                per_s, failed = await _hand_written(clients, stack.baseline_queue, runs)
            result.baseline_per_s.append(per_s)
            _add(result.baseline_cpu, spent)
            if failed:
                raise BenchError(f"{failed} hand-written runs failed")
            advance()
            spent = {}
            with cpu_account(stack, spent):
                per_s, missing = await _through_runloom(stack, headers, deployed, runs, recorded)
            result.runloom_per_s.append(per_s)
            _add(result.runloom_cpu, spent)
            result.incomplete += missing
            advance()
    for cpu in (result.runloom_cpu, result.baseline_cpu):
        for role in cpu:
            cpu[role] = round(cpu[role] / repeats, 2)
    return result
