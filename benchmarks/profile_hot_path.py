"""The hot path of a run, measured and profiled on the real stack: starting a run through
the API, and the tracker recording its end.

    python -m benchmarks.profile_hot_path measure   # `runloom up` as a subprocess
    python -m benchmarks.profile_hot_path profile benchmarks/profiles/after

`measure` prints (as JSON) the start latency through the API against the bare Temporal
client, the SQL statements per start and per tracked end (pg_stat_statements) and the
tracking lag (Temporal close → recorded), like `make bench` but nothing else.

`profile` runs the API and the manager in this process (as `up` did before they were
split) under pyinstrument, drives the same runs from a thread, and writes the text profiles
of the start path and of the tracker into the directory given. The profiler slows what it
watches: read its figures as shares, not as latencies.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
from temporalio.client import Client

from benchmarks.graphs import approval_graph
from runloom.db.migrate import migrate
from runloom.stack.ports import free_port
from runloom.stack.postgres import EmbeddedPostgres
from runloom.stack.temporal_server import TemporalDevServer

RUNS = int(os.environ.get("BENCH_RUNS", "100"))
LAG_RUNS = 30
_SECRET = "profile-hot-path-" + "s" * 32


def _settings_env(
    database_url: str, temporal_address: str, port: int, data: Path
) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": temporal_address,
        "RUNLOOM_PORT": str(port),
        "RUNLOOM_DATA_DIR": str(data),
        "RUNLOOM_JWT_SECRET": _SECRET,
        "RUNLOOM_RATE_AUTH_PER_MINUTE": "100000",
        "RUNLOOM_RATE_STARTS_BURST": str(RUNS + LAG_RUNS + 10),
        "RUNLOOM_QUOTA_OPEN_RUNS": str(RUNS + LAG_RUNS + 10),
    }


def _statement_calls(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT query, calls FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'runloom')"
        ).fetchall()
    return {str(q): int(c) for q, c in rows}


async def _wait_done(http: httpx.AsyncClient, execution_id: str) -> int:
    polls = 0
    while True:
        polls += 1
        body = (await http.get(f"/api/executions/{execution_id}")).json()
        if body["execution"]["status"] not in ("pending", "running"):
            return polls
        await asyncio.sleep(0.005)


async def _starts(
    http: httpx.AsyncClient, workflow_id: str, runs: int
) -> tuple[list[float], list[dict[str, Any]]]:
    """``runs`` starts through the API, one after another: their latencies and rows."""
    times, started = [], []
    for i in range(runs):
        began = time.perf_counter()
        response = await http.post(
            f"/api/workflows/{workflow_id}/executions", json={"input": {"i": i}}
        )
        times.append((time.perf_counter() - began) * 1000)
        started.append(response.json()["execution"])
    return times, started


async def _end(client: Client, temporal_workflow_id: str) -> None:
    handle = client.get_workflow_handle(temporal_workflow_id)
    await handle.signal("go")
    await handle.result()


async def _recorded(database_url: str, ids: list[str]) -> int:
    """Wait until every run's end is recorded; the statements it took to watch."""
    polls = 0
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        while True:
            polls += 1
            cur = await conn.execute(
                "SELECT count(*) FROM workflow_executions "
                "WHERE id = ANY(%s::uuid[]) AND stats_recorded_at IS NOT NULL",
                (ids,),
            )
            row = await cur.fetchone()
            if row is not None and row[0] == len(ids):
                return polls
            await asyncio.sleep(0.05)


async def drive(
    url: str,
    temporal_address: str,
    database_url: str,
    *,
    phase: Callable[[str], None] = lambda _: None,
    temporal_cpu_s: Callable[[], float] = lambda: 0.0,
) -> dict[str, float]:
    """Sign up, build, then RUNS starts through the API (and bare), then RUNS ends."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        email = f"hot-{uuid.uuid4().hex[:8]}@example.test"
        session = (
            await http.post("/api/auth/signup", json={"email": email, "password": "hot-path!"})
        ).json()
        http.headers["Authorization"] = f"Bearer {session['access_token']}"
        project = (await http.post("/api/projects", json={"name": "hot"})).json()["project"]
        body = {"project_id": project["id"], "name": "hot", "graph": approval_graph()}
        workflow = (await http.post("/api/workflows", json=body)).json()["workflow"]
        build = (await http.post(f"/api/workflows/{workflow['id']}/build", json={})).json()
        await http.post(f"/api/executions/{build['execution_id']}/signal", json={"name": "go"})
        await _wait_done(http, build["execution_id"])
        client = await Client.connect(temporal_address)
        bare = []
        for _ in range(RUNS):
            began = time.perf_counter()
            handle = await client.start_workflow(
                build["workflow_type"],
                {},
                id=f"raw-{uuid.uuid4()}",
                task_queue=project["task_queue_name"],
            )
            bare.append((time.perf_counter() - began) * 1000)
            await handle.terminate()
        phase("start")
        before = _statement_calls(database_url)
        starts, started = await _starts(http, workflow["id"], RUNS)
        after_start = _statement_calls(database_url)
        phase("track")
        cpu_before = temporal_cpu_s()
        # Every run ends at once; nothing but the tracker (and a count per poll) asks the
        # database anything meanwhile, so the statements are the tracker's.
        await asyncio.gather(*(_end(client, e["temporal_workflow_id"]) for e in started))
        polls = await _recorded(database_url, [e["id"] for e in started])
        after_track = _statement_calls(database_url)
        temporal_cpu_ms = (temporal_cpu_s() - cpu_before) * 1000 / RUNS
        phase("done")
        # The lag, one run at a time: signal, Temporal closes it, the API shows it ended.
        lags = []
        for execution in (await _starts(http, workflow["id"], LAG_RUNS))[1]:
            await _end(client, execution["temporal_workflow_id"])
            closed = time.perf_counter()
            await _wait_done(http, execution["id"])
            lags.append((time.perf_counter() - closed) * 1000)

    def per_run(a: dict[str, int], b: dict[str, int]) -> float:
        return sum(b.get(q, 0) - a.get(q, 0) for q in b) / RUNS

    for title, a, b in (("start", before, after_start), ("tracked end", after_start, after_track)):
        print(f"SQL statements per {title}, by statement:", file=sys.stderr)
        top = sorted(((b.get(q, 0) - a.get(q, 0)) / RUNS, q) for q in b)[-16:]
        for calls, query in reversed(top):
            print(f"  {calls:5.2f}  {' '.join(query.split())[:150]}", file=sys.stderr)

    return {
        "temporal_start_ms_p50": statistics.median(bare),
        "runloom_start_ms_p50": statistics.median(starts),
        "runloom_overhead_ms_p50": statistics.median(starts) - statistics.median(bare),
        "sql_statements_per_start": per_run(before, after_start),
        "sql_statements_per_tracked_end": per_run(after_start, after_track) - polls / RUNS,
        # The Temporal server's CPU while the runs end and are tracked (signal, workflow
        # and activity tasks, and whatever the tracker asks of it), per run.
        "temporal_cpu_ms_per_tracked_end": temporal_cpu_ms,
        "tracking_lag_ms_p50": statistics.median(lags),
        "tracking_lag_ms_p95": sorted(lags)[int(0.95 * (len(lags) - 1))],
    }


def _cpu_s(temporal: TemporalDevServer) -> float:
    """CPU seconds the dev server has used (a benchmark may look at its process)."""
    process = temporal._process
    if process is None:
        return 0.0
    times = psutil.Process(process.pid).cpu_times()
    return float(times.user + times.system)


def _services(work: Path) -> tuple[EmbeddedPostgres, TemporalDevServer]:
    postgres = EmbeddedPostgres(
        work / "pg",
        free_port(),
        settings=("shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track=all"),
    )
    temporal = TemporalDevServer(work / "temporal.db", port=free_port(), ui_port=free_port())
    postgres.start()
    temporal.start()
    migrate(postgres.url)
    with psycopg.connect(postgres.url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return postgres, temporal


def measure(work: Path) -> dict[str, float]:
    from tests.live import LiveStack, up_env

    postgres, temporal = _services(work)
    try:
        port = free_port()
        env = up_env(**_settings_env(postgres.url, temporal.address, port, work / "data"))
        stack = LiveStack(env=env, port=port, cwd=work)
        stack.start()
        try:
            return asyncio.run(
                drive(
                    stack.url,
                    temporal.address,
                    postgres.url,
                    temporal_cpu_s=lambda: _cpu_s(temporal),
                )
            )
        finally:
            stack.stop()
    finally:
        temporal.stop()
        postgres.stop()


def profile(work: Path, out: Path) -> dict[str, float]:
    """API and manager in this process's event loop, profiled while the driver runs."""
    import uvicorn
    from pyinstrument import Profiler

    from runloom.api.app import create_app
    from runloom.manager.app import run_manager
    from runloom.settings import Settings

    postgres, temporal = _services(work)
    port = free_port()
    os.environ.update(_settings_env(postgres.url, temporal.address, port, work / "data"))
    settings = Settings()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, database_url=postgres.url),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    out.mkdir(parents=True, exist_ok=True)
    figures: dict[str, float] = {}

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        manager = asyncio.create_task(run_manager(settings, database_url=postgres.url, stop=stop))
        serving = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 (uvicorn has no event)
            await asyncio.sleep(0.05)
        profiler: list[Profiler] = []

        def on_phase(name: str) -> None:
            loop.call_soon_threadsafe(_switch, name)

        def _switch(name: str) -> None:
            if profiler:
                profiler[0].stop()
                previous = {"track": "start", "done": "track"}[name]
                text = profiler[0].output_text(unicode=False, color=False, show_all=False)
                (out / f"{previous}.txt").write_text(text)
                profiler.clear()
            if name != "done":
                profiler.append(Profiler(interval=0.0005, async_mode="disabled"))
                profiler[0].start()

        figures.update(
            await asyncio.to_thread(
                lambda: asyncio.run(
                    drive(
                        f"http://127.0.0.1:{port}",
                        temporal.address,
                        postgres.url,
                        phase=on_phase,
                    )
                )
            )
        )
        await asyncio.sleep(0.1)  # the last switch runs on this loop
        server.should_exit = True
        stop.set()
        await asyncio.gather(serving, manager)

    try:
        asyncio.run(main())
    finally:
        temporal.stop()
        postgres.stop()
    return figures


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "measure"
    with tempfile.TemporaryDirectory() as tmp:
        if mode == "profile":
            figures = profile(Path(tmp), Path(sys.argv[2] if len(sys.argv) > 2 else "."))
        else:
            figures = measure(Path(tmp))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
