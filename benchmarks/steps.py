"""40 sequential steps, start → recorded result: regular and local activities.

runloom: a graph of 40 python nodes in a row (each with `local` for the second mode),
started through the API; the clock stops when the database records the run completed.
Hand-written: 40 `execute_activity` / `execute_local_activity` calls in a row, started
with the client; the clock stops at its result. One run at a time, modes alternating.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from temporalio.client import Client

from benchmarks.baseline import STEPS
from benchmarks.graphs import steps_graph
from benchmarks.session import BenchError, Recorded, check, deploy
from benchmarks.stack import BenchStack


@dataclass
class StepTimes:
    local: bool
    runloom_s: list[float] = field(default_factory=list)
    baseline_s: list[float] = field(default_factory=list)


async def _one_runloom(
    http: httpx.AsyncClient, headers: dict[str, str], workflow_id: str, recorded: Recorded
) -> float:
    began = time.perf_counter()
    response = await http.post(
        f"/api/workflows/{workflow_id}/executions", json={"input": {"i": 1}}, headers=headers
    )
    execution_id = check(response)["execution"]["id"]
    status = await recorded.until_ended(execution_id)
    elapsed = time.perf_counter() - began
    if status != "completed":
        raise BenchError(f"a {STEPS}-step run ended {status}")
    return elapsed


async def _one_baseline(client: Client, workflow: str, task_queue: str) -> float:
    began = time.perf_counter()
    await client.execute_workflow(
        workflow, {"i": 1}, id=f"bench-steps-{uuid.uuid4()}", task_queue=task_queue
    )
    return time.perf_counter() - began


async def bench_steps(
    stack: BenchStack,
    http: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    repeats: int,
    advance: Callable[[], None] = lambda: None,
) -> list[StepTimes]:
    client = await Client.connect(stack.temporal_address)
    found = []
    async with Recorded(stack.admin_url) as recorded:
        for local in (False, True):
            times = StepTimes(local=local)
            name = f"{STEPS} local steps" if local else f"{STEPS} steps"
            deployed = await deploy(http, headers, steps_graph(STEPS, local=local), name=name)
            workflow = "bench_local_steps" if local else "bench_steps"
            # Warm-up of both, not counted.
            await _one_baseline(client, workflow, stack.baseline_queue)
            await _one_runloom(http, headers, deployed.workflow_id, recorded)
            for _ in range(repeats):
                times.baseline_s.append(await _one_baseline(client, workflow, stack.baseline_queue))
                times.runloom_s.append(
                    await _one_runloom(http, headers, deployed.workflow_id, recorded)
                )
                advance()
            found.append(times)
    return found
