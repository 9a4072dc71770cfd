"""Benchmarks of the python-node sandbox (``runloom.sandbox``)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from runloom.sandbox import Isolation, RunnerPool, install, probe
from runloom_runtime import python_node

# --- python node call overhead: in-thread (the old way) vs a warm sandboxed runner ---------

_TRIVIAL_NODE = "return input"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _time_calls(n: int) -> list[float]:
    """Microseconds per ``python_node.run`` of a trivial node, after a warm-up."""
    for _ in range(max(10, n // 10)):
        await python_node.run(_TRIVIAL_NODE, {"input": 1}, node_id="bench")
    samples = []
    for i in range(n):
        started = time.perf_counter_ns()
        await python_node.run(_TRIVIAL_NODE, {"input": i}, node_id="bench")
        samples.append((time.perf_counter_ns() - started) / 1000)
    return samples


async def measure_python_call_overhead_async(n: int) -> dict[str, Any]:
    """See ``measure_python_call_overhead``; for callers already in an event loop."""
    install(None)
    in_thread = await _time_calls(n)
    isolation: Isolation = "on" if probe() is None else "off"
    async with RunnerPool(size=1, warm=1, isolation=isolation) as pool:
        install(pool)
        try:
            sandboxed = await _time_calls(n)
        finally:
            install(None)
    figures: dict[str, Any] = {"calls": n, "isolation": isolation}
    for name, samples in (("in_thread", in_thread), ("sandboxed", sandboxed)):
        figures[f"{name}_p50_us"] = round(_percentile(samples, 0.50), 1)
        figures[f"{name}_p99_us"] = round(_percentile(samples, 0.99), 1)
    figures["overhead_p50_us"] = round(figures["sandboxed_p50_us"] - figures["in_thread_p50_us"], 1)
    figures["overhead_p99_us"] = round(figures["sandboxed_p99_us"] - figures["in_thread_p99_us"], 1)
    return figures


def measure_python_call_overhead(n: int) -> dict[str, Any]:
    """p50/p99 µs of a trivial python node through ``python_node.run``: in a thread of the
    worker (the old way) and in a warm runner of a ``RunnerPool`` (isolated when the host
    can isolate; ``isolation`` in the result says which)."""
    return asyncio.run(measure_python_call_overhead_async(n))


if __name__ == "__main__":
    print(measure_python_call_overhead(2000))
