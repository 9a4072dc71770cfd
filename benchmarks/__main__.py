"""`make bench`: compile speed, the per-call cost of a sandboxed python node, the cost of
starting and tracking a run, statistics reads.

Everything runs for real on this machine: an embedded Postgres (with pg_stat_statements, to
count the SQL each start costs), a Temporal dev server and `runloom up` as a subprocess.
Results print as a table and are written to `benchmarks/results.json`.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from temporalio.client import Client
from tests.live import LiveStack, up_env

from benchmarks.graphs import approval_graph
from benchmarks.sandbox_bench import measure_python_call_overhead
from benchmarks.streams_bench import bench_streams
from runloom.compiler import compile_workflow
from runloom.db.migrate import migrate
from runloom.stack.ports import free_port
from runloom.stack.postgres import EmbeddedPostgres
from runloom.stack.temporal_server import TemporalDevServer

console = Console()
RUNS = int(os.environ.get("BENCH_RUNS", "100"))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


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


def bench_compile() -> dict[str, float]:
    results = {}
    for size in (10, 100):
        graph = chain_graph(size)
        times = []
        for _ in range(20):
            began = time.perf_counter()
            compile_workflow(graph, workflow_key="bench", version=1)
            times.append((time.perf_counter() - began) * 1000)
        results[f"compile_{size}_nodes_ms_p50"] = statistics.median(times)
    return results


def statement_calls(admin_url: str) -> dict[str, int]:
    with psycopg.connect(admin_url) as conn:
        rows = conn.execute(
            "SELECT query, calls FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'runloom')"
        ).fetchall()
    return {str(q): int(c) for q, c in rows}


async def bench_runs(url: str, temporal_address: str, admin_url: str) -> dict[str, float]:
    results: dict[str, float] = {}
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        email = f"bench-{uuid.uuid4().hex[:8]}@example.test"
        session = (
            await http.post("/api/auth/signup", json={"email": email, "password": "benchmark!"})
        ).json()
        http.headers["Authorization"] = f"Bearer {session['access_token']}"
        project = (await http.post("/api/projects", json={"name": "bench"})).json()["project"]
        workflow = (
            await http.post(
                "/api/workflows",
                json={"project_id": project["id"], "name": "bench", "graph": approval_graph()},
            )
        ).json()["workflow"]
        began = time.perf_counter()
        build = (await http.post(f"/api/workflows/{workflow['id']}/build", json={})).json()
        results["first_build_incl_worker_start_ms"] = (time.perf_counter() - began) * 1000
        await http.post(f"/api/executions/{build['execution_id']}/signal", json={"name": "go"})
        await wait_done(http, build["execution_id"])

        client = await Client.connect(temporal_address)
        raw: list[float] = []
        via_runloom: list[float] = []
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("starting runs", total=RUNS * 2)
            for _ in range(RUNS):
                began = time.perf_counter()
                handle = await client.start_workflow(
                    build["workflow_type"],
                    {},
                    id=f"raw-{uuid.uuid4()}",
                    task_queue=project["task_queue_name"],
                )
                raw.append((time.perf_counter() - began) * 1000)
                await handle.terminate()
                progress.advance(task)
            before = statement_calls(admin_url)
            ids = []
            for i in range(RUNS):
                began = time.perf_counter()
                response = await http.post(
                    f"/api/workflows/{workflow['id']}/executions", json={"input": {"i": i}}
                )
                via_runloom.append((time.perf_counter() - began) * 1000)
                ids.append(response.json()["execution"]["id"])
                progress.advance(task)
            after_start = statement_calls(admin_url)
            # Tracking: each run ends when signalled; how long until runloom records it?
            lags: list[float] = []
            observer_gets = 0
            track = progress.add_task("tracking runs", total=RUNS)
            for execution_id in ids:
                execution = (await http.get(f"/api/executions/{execution_id}")).json()["execution"]
                observer_gets += 1
                handle = client.get_workflow_handle(execution["temporal_workflow_id"])
                await handle.signal("go")
                await handle.result()
                closed = time.perf_counter()
                _, polls = await wait_done(http, execution_id, poll_s=0.005)
                observer_gets += polls
                lags.append((time.perf_counter() - closed) * 1000)
                progress.advance(track)
            after_track = statement_calls(admin_url)
        stats_times = []
        for _ in range(20):
            began = time.perf_counter()
            await http.get(f"/api/projects/{project['id']}/stats")
            stats_times.append((time.perf_counter() - began) * 1000)

    def per_run(a: dict[str, int], b: dict[str, int]) -> float:
        return sum(b.get(q, 0) - a.get(q, 0) for q in b) / RUNS

    top = sorted(((after_start.get(q, 0) - before.get(q, 0)) / RUNS, q) for q in after_start)[-12:]
    console.print("SQL statements per start, by statement (pg_stat_statements, track=all):")
    for calls, query in reversed(top):
        console.print(f"  {calls:5.2f}  {' '.join(query.split())[:110]}")
    results.update(
        temporal_start_ms_p50=statistics.median(raw),
        runloom_start_ms_p50=statistics.median(via_runloom),
        runloom_start_ms_p95=pct(via_runloom, 0.95),
        runloom_overhead_ms_p50=statistics.median(via_runloom) - statistics.median(raw),
        sql_statements_per_start=per_run(before, after_start),
        # Less the two statements (claims, select) of each GET this benchmark made to watch.
        sql_statements_per_tracked_end=per_run(after_start, after_track) - 2 * observer_gets / RUNS,
        tracking_lag_ms_p50=statistics.median(lags),
        tracking_lag_ms_p95=pct(lags, 0.95),
        stats_endpoint_ms_p50=statistics.median(stats_times),
    )
    return results


async def wait_done(
    http: httpx.AsyncClient, execution_id: str, *, poll_s: float = 0.05
) -> tuple[dict[str, Any], int]:
    polls = 0
    while True:
        polls += 1
        execution: dict[str, Any] = (await http.get(f"/api/executions/{execution_id}")).json()[
            "execution"
        ]
        if execution["status"] not in ("pending", "running"):
            return execution, polls
        await asyncio.sleep(poll_s)


def main() -> None:
    results: dict[str, float] = {}
    with console.status("compiling graphs"):
        results.update(bench_compile())
    with console.status("timing python node calls: in a worker thread vs a sandboxed runner"):
        figures = measure_python_call_overhead(2000)
    results.update(
        {f"python_node_{k}": float(v) for k, v in figures.items() if isinstance(v, int | float)}
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        postgres = EmbeddedPostgres(
            work / "pg",
            free_port(),
            settings=(
                "shared_preload_libraries=pg_stat_statements",
                "pg_stat_statements.track=all",
            ),
        )
        temporal = TemporalDevServer(work / "temporal.db", port=free_port(), ui_port=free_port())
        with console.status("starting Postgres and Temporal"):
            postgres.start()
            temporal.start()
        try:
            migrate(postgres.url)
            admin = postgres.url
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            port = free_port()
            stack = LiveStack(
                env=up_env(
                    DATABASE_URL=postgres.url,
                    TEMPORAL_ADDRESS=temporal.address,
                    RUNLOOM_PORT=str(port),
                    RUNLOOM_DATA_DIR=str(work / "data"),
                    # The benchmarks sign up many users and start RUNS runs as fast as
                    # they can, all left open: budgets far above what they use.
                    RUNLOOM_RATE_AUTH_PER_MINUTE="100000",
                    RUNLOOM_RATE_AUTH_EMAIL_PER_MINUTE="100000",
                    RUNLOOM_RATE_STARTS_BURST=str(RUNS + 10),
                    RUNLOOM_QUOTA_OPEN_RUNS=str(RUNS + 10),
                ),
                port=port,
                cwd=work,
            )
            stack.start()
            try:
                results.update(asyncio.run(bench_runs(stack.url, temporal.address, admin)))
                with console.status("500 live streams on one API process"):
                    results.update(asyncio.run(bench_streams(stack.url, admin)))
            finally:
                stack.stop()
        finally:
            temporal.stop()
            postgres.stop()
    table = Table("measure", "value", title=f"runloom benchmarks ({RUNS} runs)")
    for name, value in results.items():
        table.add_row(name, f"{value:.2f}")
    console.print(table)
    Path(__file__).with_name("results.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
