"""`make chaos`: 1,000 runs across 10 projects while workers, a manager, Temporal and
Postgres are killed or restarted under them; then every run is checked against Temporal.

Everything is real and local: an embedded Postgres, a Temporal dev server on a SQLite
file, one `runloom api` and two `runloom manager` processes, driven through the HTTP API
only. Afterwards: every execution is terminal with the status and output Temporal
reports, none is duplicated or missing, every Temporal run on the projects' queues has
its row, and the statistics count each run exactly once. The figures go to
`benchmarks/CHAOS.md`; any failed invariant is printed and the exit code is 1.

    .venv/bin/python -m benchmarks.chaos

CHAOS_RUNS (1000) and CHAOS_RATE (runs a second, 5) set the load, CHAOS_SETTLE_S (300) how
long runs may take to end afterwards. The runloom processes run a copy of `src/` taken at
the start. On a failure the temporary directory (logs, data, and `chaos-watch.json`, what
the health watch and the driver saw) is kept and named.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from benchmarks.chaos_checks import check_runs, check_statistics, open_rows
from benchmarks.chaos_faults import WORKER_KILLS, Fault, HealthWatch, Injector, RegistryWatch
from benchmarks.chaos_load import Api, Driver, create_everything
from benchmarks.chaos_report import Result, failures, write_report
from benchmarks.chaos_stack import ChaosStack, pids_alive

console = Console()
RUNS = int(os.environ.get("CHAOS_RUNS", "1000"))
RATE = float(os.environ.get("CHAOS_RATE", "5"))
SETTLE_S = float(os.environ.get("CHAOS_SETTLE_S", "300"))
PROJECTS = 10
USERS = 3


async def _load(stack: ChaosStack, result: Result) -> None:
    """Set up through the API, then the runs and the faults together, then settle."""
    stop = asyncio.Event()
    result.health = HealthWatch(stack.url)
    result.registry = RegistryWatch(stack.postgres.url)
    watchers = [
        asyncio.create_task(result.health.run(stop)),
        asyncio.create_task(result.registry.run(stop)),
    ]
    async with httpx.AsyncClient(base_url=stack.url, timeout=60) as http:
        api = Api(http)
        with console.status("signing up, creating projects and workflows, starting workers"):
            began = time.monotonic()
            result.setup = await create_everything(api, users=USERS, projects=PROJECTS)
            result.phases["setup through the API"] = time.monotonic() - began
        console.print(
            f"[green]✓[/] {USERS} users, {len(result.setup.projects)} projects, "
            f"{len(result.setup.flows)} workflows, every project's worker running"
        )
        result.driver = Driver(api, result.setup.flows, RUNS, RATE)
        result.injector = Injector(stack, duration_s=RUNS / RATE)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            await _drive(progress, result.driver, result.injector, result)
            await _settle(progress, stack, result)
        result.answers = api.answers
    stop.set()
    await asyncio.gather(*watchers)


async def _drive(progress: Progress, driver: Driver, injector: Injector, result: Result) -> None:
    starts = progress.add_task("runs started", total=RUNS)
    signals = progress.add_task("runs signalled", total=1)
    faults = progress.add_task("faults injected", total=WORKER_KILLS + 3)

    def advanced(what: str) -> None:
        if what == "started":
            progress.advance(starts)
        signalled = sum(1 for s in driver.started if s.signalled)
        waiting = sum(1 for s in driver.started if s.flow.kind == "signal")
        progress.update(signals, completed=signalled, total=max(waiting, 1))

    def faulted(fault: Fault) -> None:
        progress.advance(faults)
        at = fault.at - driver.begun_at
        progress.console.log(f"[yellow]+{at:6.1f} s[/] {fault.kind}: {fault.detail}")

    driver.on_progress = advanced
    injector.on_fault = faulted
    began = result.load_began = time.monotonic()
    await asyncio.gather(driver.run(), injector.run())
    result.phases["load (runs started, faults injected)"] = time.monotonic() - began


async def _settle(progress: Progress, stack: ChaosStack, result: Result) -> None:
    """Wait (at most SETTLE_S) until no run of the projects is open in the database."""
    assert result.setup is not None
    began = time.monotonic()
    projects = [p["id"] for p in result.setup.projects]
    settle = progress.add_task("open runs left to settle", total=None)
    while time.monotonic() - began < SETTLE_S:
        left = await open_rows(stack.postgres.url, projects)
        progress.update(settle, description=f"open runs left to settle: {left}")
        if left == 0:
            break
        await asyncio.sleep(2)
    result.phases["settling"] = time.monotonic() - began


async def _check(stack: ChaosStack, result: Result) -> None:
    assert result.setup is not None and result.driver is not None
    began = time.monotonic()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("checking every run against Temporal", total=None)
        found, rows = await check_runs(
            database_url=stack.postgres.url,
            temporal_address=stack.temporal.address,
            projects=result.setup.projects,
            started=result.driver.started,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    await check_statistics(stack.postgres.url, result.setup.projects, rows, found)
    result.findings, result.rows = found, rows
    result.phases["checks"] = time.monotonic() - began


# What the managers logged that tells how they coped (counted, not judged).
_LOGGED = {
    "projects taken over from a stale row": "worker stale, taking over",
    "workers stopped because another manager had taken their row": "lost ownership of",
    "worker deaths seen and restarted": "worker died",
}


def _manager_log_counts(stack: ChaosStack) -> dict[str, int]:
    text = "".join(
        path.read_text(errors="replace") for path in sorted(stack.logs.glob("manager*.log"))
    )
    return {what: text.count(phrase) for what, phrase in _LOGGED.items()}


def _dump(stack: ChaosStack, result: Result) -> None:
    """What the watchers saw, beside the logs, to find out why an invariant failed."""
    began = result.load_began
    samples = result.health.samples if result.health else []
    health = [
        {
            "at": round(s.at - began, 2),
            "status": s.status,
            "took_s": round(s.took_s, 2),
            **(s.body or {}),
        }
        for s in samples
    ]
    answers = [
        {
            "at": round(a.at - began, 2),
            "took_s": round(a.took_s, 2),
            "status": a.status,
            "method": a.method,
            "path": a.path,
        }
        for a in result.answers
    ]
    faults = [
        {"at": round(f.at - began, 2), "kind": f.kind, "detail": f.detail}
        for f in (result.injector.faults if result.injector else [])
    ]
    document = {"health": health, "answers": answers, "faults": faults}
    (stack.logs / "chaos-watch.json").write_text(json.dumps(document, indent=1))


def main() -> int:
    result = Result(runs=RUNS, rate=RATE, projects=PROJECTS, users=USERS)
    began = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="runloom-chaos-"))
    stack = ChaosStack(work)
    keep = False
    try:
        with console.status("starting Postgres and Temporal, migrating, api and 2 managers"):
            t = time.monotonic()
            stack.start_services()
            stack.start_api()
            stack.start_manager(0)
            stack.start_manager(1)
            result.phases["services up"] = time.monotonic() - t
        asyncio.run(_load(stack, result))
        result.exited = stack.check_alive()
        result.orphans_left = pids_alive(result.injector.orphans) if result.injector else []
        asyncio.run(_check(stack, result))
    except BaseException:
        keep = True
        console.print(f"[red]the chaos run broke off; logs kept in {stack.logs}[/]")
        raise
    finally:
        with console.status("stopping everything"):
            stack.stop()
        result.wall_s = time.monotonic() - began
    result.manager_log = _manager_log_counts(stack)
    failed = failures(result)
    report = Path(__file__).with_name("CHAOS.md")
    write_report(report, result, failed)
    console.print(f"wrote {report} (wall time {result.wall_s:.0f} s)")
    if failed:
        keep = True
        _dump(stack, result)
        console.print("[red bold]invariants failed:[/]")
        for line in failed:
            console.print(f"  [red]✗[/] {line}")
        console.print(f"logs kept in {stack.logs}")
    else:
        console.print("[green bold]✓ every invariant held[/]")
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
