"""The API under load: 50 concurrent clients (one connection each) list projects, then
start runs, as fast as they get answers; latency of every request."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from benchmarks.graphs import three_step_graph
from benchmarks.session import Recorded, deploy
from benchmarks.stack import BenchStack

CLIENTS = 50


@dataclass
class Load:
    clients: int
    list_ms: list[float] = field(default_factory=list)
    start_ms: list[float] = field(default_factory=list)
    errors: int = 0


async def _hammer(
    stack: BenchStack,
    headers: dict[str, str],
    *,
    method: str,
    path: str,
    body: dict[str, object] | None,
    each: int,
    into: Load,
) -> list[float]:
    samples: list[float] = []
    gate = asyncio.Event()

    async def client() -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(
            base_url=stack.url, headers=headers, limits=limits, timeout=120
        ) as http:
            # A first request opens the connection before the clock matters.
            await http.get("/api/health")
            await gate.wait()
            for _ in range(each):
                began = time.perf_counter()
                response = await http.request(method, path, json=body)
                samples.append((time.perf_counter() - began) * 1000)
                if response.status_code >= 400:
                    into.errors += 1

    tasks = [asyncio.create_task(client()) for _ in range(CLIENTS)]
    await asyncio.sleep(0.5)
    gate.set()
    await asyncio.gather(*tasks)
    return samples


async def bench_load(
    stack: BenchStack,
    http: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    each: int,
    advance: Callable[[], None] = lambda: None,
) -> Load:
    deployed = await deploy(http, headers, three_step_graph(), name="load")
    result = Load(clients=CLIENTS)
    result.list_ms = await _hammer(
        stack, headers, method="GET", path="/api/projects", body=None, each=each, into=result
    )
    advance()
    result.start_ms = await _hammer(
        stack,
        headers,
        method="POST",
        path=f"/api/workflows/{deployed.workflow_id}/executions",
        body={"input": {"i": 1}},
        each=each,
        into=result,
    )
    # Let the runs drain before the next measure starts, so they do not load it.
    async with Recorded(stack.admin_url) as recorded:
        await recorded.until_done([deployed.workflow_id], CLIENTS * each + 1, within_s=600)
    advance()
    return result
