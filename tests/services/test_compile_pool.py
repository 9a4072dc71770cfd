"""Compilation in bounded processes: same results as in process, and a graph that would
take too long or too much memory is stopped while everything else keeps going."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import psutil
import pytest

from runloom.compiler import CompileOptions, GraphInvalid, RunBounds, compile_workflow
from runloom.services.compile_pool import (
    CompileMemoryError,
    CompilePool,
    CompilerBusyError,
    CompilerUnavailableError,
    CompileTimeoutError,
    PoolLimits,
)
from tests.factory import chain

pytestmark = pytest.mark.slow

TIMEOUT_S = 2.0


def transform(output: Any) -> dict[str, Any]:
    return {"id": "evil", "type": "transform", "config": {"output": output}}


def slow_graph() -> dict[str, Any]:
    """Jinja's code generator takes about a minute on this (loops nested 200 deep, each
    looking up 12 000 names), far beyond TIMEOUT_S; parsing it takes milliseconds."""
    names = "".join(f"{{{{ v{i} }}}}" for i in range(12_000))
    return chain(transform("{% for x in a %}" * 200 + names + "{% endfor %}" * 200))


def hungry_graph() -> dict[str, Any]:
    """Compiling this needs about 230 MiB (Jinja's syntax tree of 20 000 outputs)."""
    return chain(transform("x" + "".join(f"{{{{ v{i} }}}}" for i in range(20_000))))


async def longest_stall(until: Awaitable[Any]) -> tuple[float, Any]:
    """Run ``until`` while ticking the event loop: the longest the loop went without a
    tick, and what ``until`` raised or returned."""
    task = asyncio.ensure_future(until)
    longest, last = 0.0, time.monotonic()
    while not task.done():
        await asyncio.wait({task}, timeout=0.05)
        now = time.monotonic()
        longest, last = max(longest, now - last), now
    return longest, task.exception() or task.result()


def compile_processes() -> list[psutil.Process]:
    return [
        p
        for p in psutil.Process().children(recursive=True)
        if "runloom.services._compiler_main" in " ".join(p.cmdline())
    ]


@pytest.fixture(scope="module")
async def compiler() -> AsyncIterator[CompilePool]:
    pool = CompilePool(PoolLimits(workers=2, timeout_s=TIMEOUT_S))
    yield pool
    await pool.close()


async def test_compiles_exactly_as_the_compiler_does(compiler: CompilePool) -> None:
    doc = chain(
        transform({"total": "{{ input.a * 2 }}"}),
        {"id": "child", "type": "child_workflow", "config": {"workflow": "billing"}},
    )
    options = CompileOptions(
        child_workflow_types={"billing": "billing@v3"},
        bounds=RunBounds(for_each_items=10, step_output_bytes=1024),
    )
    compiled = await compiler.compile(doc, workflow_key="orders", version=4, options=options)
    assert compiled == compile_workflow(doc, workflow_key="orders", version=4, options=options)


async def test_problems_come_back_as_graph_invalid(compiler: CompilePool) -> None:
    doc = chain({"id": "code", "type": "python", "config": {"code": "return ("}})
    with pytest.raises(GraphInvalid) as caught:
        await compiler.compile(doc, workflow_key="orders", version=1)
    assert [(p.code, p.node_id) for p in caught.value.problems] == [("python_syntax", "code")]


@pytest.mark.parametrize("template", ["{{ 3**(10**9) }}", "{{ 'x'*10**9 }}"])
async def test_huge_constants_are_problems_at_once(compiler: CompilePool, template: str) -> None:
    stall, outcome = await longest_stall(
        compiler.compile(chain(transform(template)), workflow_key="wf", version=1)
    )
    assert isinstance(outcome, GraphInvalid), outcome
    assert "the template sandbox allows at most" in outcome.problems[0].message
    assert stall < 1.0


async def test_a_graph_that_compiles_too_long_is_stopped(compiler: CompilePool) -> None:
    before = {p.pid for p in compile_processes()}
    started = time.monotonic()
    stall, outcome = await longest_stall(
        compiler.compile(slow_graph(), workflow_key="wf", version=1)
    )
    took = time.monotonic() - started
    assert isinstance(outcome, CompileTimeoutError), outcome
    assert f"longer than {TIMEOUT_S:g} s" in str(outcome) and "child workflows" in str(outcome)
    assert TIMEOUT_S <= took < TIMEOUT_S + 3
    # The event loop never waited on the compilation; its process is gone, and the pool
    # goes on with a fresh one.
    assert stall < 1.0
    alive = {p.pid for p in compile_processes()}
    assert alive < before or alive == before == set(), (before, alive)
    ok = await compiler.compile(chain(transform("{{ input }}")), workflow_key="wf", version=1)
    assert ok.workflow_type == "wf@v1"


async def test_a_graph_that_needs_too_much_memory_is_stopped() -> None:
    pool = CompilePool(PoolLimits(workers=1, timeout_s=60, memory_mb=64))
    try:
        with pytest.raises(CompileMemoryError, match="more than 64 MiB"):
            await pool.compile(hungry_graph(), workflow_key="wf", version=1)
        # The next graph gets a process of its own.
        ok = await pool.compile(chain(transform("{{ input }}")), workflow_key="wf", version=1)
        assert ok.workflow_key == "wf"
    finally:
        await pool.close()


async def test_callers_beyond_the_queue_are_refused_and_cancelled_work_is_killed() -> None:
    others = {p.pid for p in compile_processes()}
    pool = CompilePool(PoolLimits(workers=1, timeout_s=60, max_waiting=1))
    try:
        first = asyncio.ensure_future(pool.compile(slow_graph(), workflow_key="a", version=1))
        await asyncio.sleep(0)  # `first` takes the only process slot
        second = asyncio.ensure_future(pool.compile(slow_graph(), workflow_key="b", version=1))
        await asyncio.sleep(0)  # `second` waits for it
        with pytest.raises(CompilerBusyError, match="1 compile processes are busy"):
            await pool.compile(slow_graph(), workflow_key="c", version=1)
        while not {p.pid for p in compile_processes()} - others:  # `first` starts its process
            await asyncio.wait({first}, timeout=0.05)
        for task in (second, first):
            task.cancel()
        await asyncio.gather(first, second, return_exceptions=True)
    finally:
        await pool.close()
    assert {p.pid for p in compile_processes()} - others == set()


ORPHANING = """
import asyncio, os, sys
from runloom.services.compile_pool import CompilePool, PoolLimits
from tests.services.test_compile_pool import chain, compile_processes, slow_graph, transform

async def main():
    pool = CompilePool(PoolLimits(workers=1, timeout_s=600))
    await pool.compile(chain(transform("x")), workflow_key="a", version=1)  # a process, idle
    task = asyncio.ensure_future(pool.compile(slow_graph(), workflow_key="a", version=1))
    await asyncio.wait({task}, timeout=0.5)  # the graph is sent: the process compiles
    (child,) = compile_processes()
    print(child.pid, child.cpu_times().user, flush=True)
    await task

asyncio.run(main())
"""


async def test_compile_processes_die_with_the_api_process(repo_root: Any) -> None:
    parent = await asyncio.create_subprocess_exec(
        sys.executable, "-c", ORPHANING, cwd=repo_root, stdout=asyncio.subprocess.PIPE
    )
    assert parent.stdout is not None
    pid, cpu = (await asyncio.wait_for(parent.stdout.readline(), 60)).split()
    child = psutil.Process(int(pid))
    while child.cpu_times().user < float(cpu) + 0.5:  # it is busy compiling
        await asyncio.wait({asyncio.ensure_future(parent.wait())}, timeout=0.1)
    parent.kill()  # as in a crash: nothing of the parent's own code runs
    await parent.wait()
    # The kernel kills the compile process (PR_SET_PDEATHSIG): no minute-long orphan.
    gone, _ = psutil.wait_procs([child], timeout=10)
    assert gone == [child]


async def test_a_compiler_that_cannot_start_is_unavailable_not_a_bad_graph() -> None:
    pool = CompilePool(command=[sys.executable, "-c", "import sys; sys.exit(3)"])
    with pytest.raises(CompilerUnavailableError, match="could not start"):
        await pool.compile(chain(transform("x")), workflow_key="wf", version=1)
    await pool.close()
