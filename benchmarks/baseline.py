"""The hand-written `temporalio` baseline: what a person would write without runloom.

Three workflows, each the twin of a graph in benchmarks/graphs.py: three activities in a
row, and `STEPS` sequential activities, as regular or as local activities. The worker
runs in its own process (`main`, started by benchmarks/stack.py) with the SDK's
defaults, so its CPU is counted apart from the client's.

This module is imported again inside the workflow sandbox: stdlib and temporalio only.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.worker import Worker

STEPS = 40
_TIMEOUT = timedelta(seconds=60)
_ONCE = RetryPolicy(maximum_attempts=1)


@activity.defn(name="bench_step")
async def bench_step(payload: dict[str, Any]) -> dict[str, Any]:
    """As little work as a python node's `return {...}`: a small dict in, one out."""
    return {"i": payload.get("i", 0), "step": payload.get("step", 0) + 1}


@workflow.defn(name="bench_three_steps")
class ThreeSteps:
    @workflow.run
    async def run(self, payload: dict[str, Any]) -> dict[str, Any]:
        result = payload
        for _ in range(3):
            result = await workflow.execute_activity(
                bench_step, result, start_to_close_timeout=_TIMEOUT, retry_policy=_ONCE
            )
        return result


@workflow.defn(name="bench_steps")
class Steps:
    @workflow.run
    async def run(self, payload: dict[str, Any]) -> dict[str, Any]:
        result = payload
        for _ in range(STEPS):
            result = await workflow.execute_activity(
                bench_step, result, start_to_close_timeout=_TIMEOUT, retry_policy=_ONCE
            )
        return result


@workflow.defn(name="bench_local_steps")
class LocalSteps:
    @workflow.run
    async def run(self, payload: dict[str, Any]) -> dict[str, Any]:
        result = payload
        for _ in range(STEPS):
            result = await workflow.execute_local_activity(
                bench_step, result, start_to_close_timeout=_TIMEOUT, retry_policy=_ONCE
            )
        return result


async def serve(address: str, task_queue: str) -> None:
    client = await Client.connect(address)
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[ThreeSteps, Steps, LocalSteps],
        activities=[bench_step],
    )
    await worker.run()


def main() -> None:
    """`python -c "from benchmarks.baseline import main; main()" ADDRESS TASK_QUEUE`."""
    address, task_queue = sys.argv[1:3]
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(address, task_queue))
