"""The fixed cost of one run: start through the API vs the bare client, tracking lag
(Temporal close → recorded), SQL statements per start and per tracked end, statistics
reads, compile speed."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
from rich.console import Console
from temporalio.client import Client

from benchmarks.graphs import approval_graph
from benchmarks.report import percentile
from benchmarks.session import check, wait_recorded
from runloom import naming
from runloom.compiler import compile_workflow


def chain_graph(length: int) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "start"}]
    edges = []
    previous = "start"
    for i in range(length):
        node_id = f"step_{i}"
        if i % 2:
            nodes.append({"id": node_id, "type": "python", "config": {"code": f"return {i}"}})
        else:
            nodes.append(
                {"id": node_id, "type": "transform", "config": {"output": {"i": f"{{{{ {i} }}}}"}}}
            )
        edges.append({"source": previous, "target": node_id})
        previous = node_id
    nodes.append({"id": "end", "type": "end"})
    edges.append({"source": previous, "target": "end"})
    return {"nodes": nodes, "edges": edges}


def bench_compile() -> dict[str, list[float]]:
    """Milliseconds per compile of a 10- and a 100-node chain, 20 times each."""
    results = {}
    for size in (10, 100):
        graph = chain_graph(size)
        times = []
        for _ in range(20):
            began = time.perf_counter()
            compile_workflow(graph, workflow_key="bench", version=1)
            times.append((time.perf_counter() - began) * 1000)
        results[f"compile_{size}_nodes_ms"] = times
    return results


def statement_calls(admin_url: str) -> dict[str, int]:
    with psycopg.connect(admin_url) as conn:
        rows = conn.execute(
            "SELECT query, calls FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'runloom')"
        ).fetchall()
    return {str(q): int(c) for q, c in rows}


async def _wait_open_done(
    http: httpx.AsyncClient, execution_id: str, *, poll_s: float
) -> tuple[dict[str, Any], int]:
    polls = 0
    while True:
        polls += 1
        execution: dict[str, Any] = check(await http.get(f"/api/executions/{execution_id}"))[
            "execution"
        ]
        if execution["status"] not in ("pending", "running"):
            return execution, polls
        await asyncio.sleep(poll_s)


async def _bare_starts(
    client: Client, workflow_type: str, task_queue: str, runs: int
) -> list[float]:
    """Starts of the same workflow on the same queue, left open while the others start as
    runs started through the API are: the project's worker runs each one's first workflow
    task meanwhile, in both cases (terminating each at once would spare the bare starts
    that work, and the comparison would not be fair)."""
    raw, handles = [], []
    for _ in range(runs):
        began = time.perf_counter()
        handle = await client.start_workflow(
            workflow_type, {}, id=f"raw-{uuid.uuid4()}", task_queue=task_queue
        )
        raw.append((time.perf_counter() - began) * 1000)
        handles.append(handle)
    for handle in handles:
        await handle.terminate()
    return raw


async def _api_starts(
    http: httpx.AsyncClient, workflow_id: str, runs: int
) -> tuple[list[float], list[str]]:
    times, ids = [], []
    for i in range(runs):
        began = time.perf_counter()
        response = await http.post(
            f"/api/workflows/{workflow_id}/executions", json={"input": {"i": i}}
        )
        times.append((time.perf_counter() - began) * 1000)
        ids.append(check(response)["execution"]["id"])
    return times, ids


async def _track(
    http: httpx.AsyncClient,
    client: Client,
    ids: list[str],
    advance: Callable[[], None],
    *,
    database_url: str,
) -> tuple[list[float], int]:
    """Each run ends when signalled: how long from Temporal's close until runloom's record
    of the end is committed? The tracker NOTIFYs a run's end in the transaction that
    records it, so a LISTEN hears the commit itself (polling the API instead would add
    the poll's interval and a GET to every sample)."""
    lags: list[float] = []
    observer_gets = 0
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as listener:
        await listener.execute(f"LISTEN {naming.EXECUTION_CHANGED_CHANNEL}")
        for execution_id in ids:
            execution = check(await http.get(f"/api/executions/{execution_id}"))["execution"]
            observer_gets += 1
            handle = client.get_workflow_handle(execution["temporal_workflow_id"])
            await handle.signal("go")
            await handle.result()
            closed = time.perf_counter()
            await _finished(listener, execution_id)
            lags.append((time.perf_counter() - closed) * 1000)
            ended, polls = await _wait_open_done(http, execution_id, poll_s=0.005)
            observer_gets += polls
            assert ended["status"] == "completed", ended
            advance()
    return lags, observer_gets


async def _finished(listener: psycopg.AsyncConnection[Any], execution_id: str) -> None:
    async for notify in listener.notifies(timeout=60):
        event = json.loads(notify.payload)
        if event.get("e") == execution_id and event.get("f"):
            return
    raise TimeoutError(f"no end of {execution_id} was recorded within 60 s")


def _print_top(console: Console, before: dict[str, int], after: dict[str, int], runs: int) -> None:
    top = sorted(((after.get(q, 0) - before.get(q, 0)) / runs, q) for q in after)[-12:]
    console.print("SQL statements per start, by statement (pg_stat_statements, track=all):")
    for calls, query in reversed(top):
        console.print(f"  {calls:5.2f}  {' '.join(query.split())[:110]}")


async def bench_runs(
    url: str,
    temporal_address: str,
    admin_url: str,
    *,
    runs: int,
    console: Console,
    advance: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """Samples (lists, in ms) and per-run SQL counts."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        email = f"bench-{uuid.uuid4().hex[:8]}@example.test"
        credentials = {"email": email, "password": "benchmark!"}
        session = check(await http.post("/api/auth/signup", json=credentials))
        http.headers["Authorization"] = f"Bearer {session['access_token']}"
        project = check(await http.post("/api/projects", json={"name": "bench"}))["project"]
        body = {"project_id": project["id"], "name": "bench", "graph": approval_graph()}
        workflow = check(await http.post("/api/workflows", json=body))["workflow"]
        began = time.perf_counter()
        build = check(await http.post(f"/api/workflows/{workflow['id']}/build", json={}))
        first_build_ms = (time.perf_counter() - began) * 1000
        await http.post(f"/api/executions/{build['execution_id']}/signal", json={"name": "go"})
        await wait_recorded(http, {}, build["execution_id"])

        client = await Client.connect(temporal_address)
        raw = await _bare_starts(client, build["workflow_type"], project["task_queue_name"], runs)
        before = statement_calls(admin_url)
        via_runloom, ids = await _api_starts(http, workflow["id"], runs)
        after_start = statement_calls(admin_url)
        lags, observer_gets = await _track(http, client, ids, advance, database_url=admin_url)
        after_track = statement_calls(admin_url)
        stats_times = []
        for _ in range(20):
            began = time.perf_counter()
            check(await http.get(f"/api/projects/{project['id']}/stats"))
            stats_times.append((time.perf_counter() - began) * 1000)

    def per_run(a: dict[str, int], b: dict[str, int]) -> float:
        return sum(b.get(q, 0) - a.get(q, 0) for q in b) / runs

    _print_top(console, before, after_start, runs)
    return {
        "first_build_incl_worker_start_ms": first_build_ms,
        "bare_start_ms": raw,
        "api_start_ms": via_runloom,
        "start_overhead_ms_p50": statistics.median(via_runloom) - statistics.median(raw),
        "api_start_ms_p95": percentile(via_runloom, 0.95),
        "sql_statements_per_start": per_run(before, after_start),
        # Less the two statements (claims, select) of each GET this benchmark made to watch.
        "sql_statements_per_tracked_end": per_run(after_start, after_track)
        - 2 * observer_gets / runs,
        "tracking_lag_ms": lags,
        "stats_endpoint_ms": stats_times,
    }
