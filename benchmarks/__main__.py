"""`make bench`: every measure of issue 14, runloom side by side with hand-written
`temporalio` on the same Temporal dev server in the same run.

Everything runs for real on this machine: an embedded Postgres (with pg_stat_statements),
a Temporal dev server, `runloom up` as a subprocess and the hand-written baseline's worker
(benchmarks/stack.py). The table prints at the end and is written, with the machine, date
and command, to benchmarks/RESULTS.md; the raw figures go to benchmarks/results.json.

Sizes come from the environment: BENCH_RUNS (start/tracking samples, 100),
BENCH_THROUGHPUT_RUNS (500), BENCH_REPEATS (throughput repeats, 3), BENCH_STEP_REPEATS
(40-step runs per mode, 7), BENCH_PROJECTS (200), BENCH_LOAD_EACH (requests per client
of the 50, 20). BENCH_QUICK=1 makes them all small and writes RESULTS.quick.md and
results.quick.json instead, so a check never overwrites the real results. BENCH_ONLY
(comma-separated: throughput, steps, runs, workers, load, streams, projects) runs only
those live measures.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shlex
import sys
import tempfile
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from benchmarks.graphs import three_step_graph
from benchmarks.load import bench_load
from benchmarks.projects import bench_projects
from benchmarks.report import Report, rich_table, this_machine
from benchmarks.rows import build_rows
from benchmarks.runs_bench import bench_compile, bench_runs
from benchmarks.sandbox_bench import measure_python_call_overhead
from benchmarks.session import sign_up, warm_up
from benchmarks.stack import BenchStack
from benchmarks.steps import bench_steps
from benchmarks.streams_bench import bench_streams
from benchmarks.summary import cpu_section, missed_notes, row_notes, sizes_note
from benchmarks.throughput import bench_throughput

HERE = Path(__file__).resolve().parent
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
ONLY = {key.strip() for key in os.environ.get("BENCH_ONLY", "").split(",") if key.strip()}
_DEFAULTS = {
    "runs": (100, 20),
    "throughput_runs": (500, 40),
    "repeats": (3, 1),
    "step_repeats": (7, 2),
    "projects": (200, 10),
    "load_each": (20, 4),
}
console = Console()


def sizes() -> dict[str, int]:
    return {
        name: int(os.environ.get(f"BENCH_{name.upper()}", str(full if not QUICK else quick)))
        for name, (full, quick) in _DEFAULTS.items()
    }


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class Phases:
    """The progress display: one line per measure, and errors kept rather than fatal, so
    one broken measure does not cost the others."""

    def __init__(self, progress: Progress, raw: dict[str, Any]) -> None:
        self.progress = progress
        self.raw = raw

    async def run(
        self, key: str, label: str, total: int, work: Callable[[Callable[[], None]], Awaitable[Any]]
    ) -> None:
        if ONLY and key not in ONLY:
            return
        task = self.progress.add_task(label, total=total)
        try:
            self.raw[key] = _plain(await work(lambda: self.progress.advance(task)))
        except Exception as error:
            self.progress.console.print(f"[red]{label}: {error!r}[/red]")
            self.raw.setdefault("errors", {})[key] = traceback.format_exc(limit=8)
        self.progress.update(task, completed=total)


async def _workers(url: str, repeats: int) -> dict[str, Any] | None:
    try:
        from benchmarks.workers_bench import bench_workers
    except ImportError as error:
        console.print(f"[yellow]benchmarks/workers_bench.py is missing ({error}); skipped[/]")
        return None
    found: dict[str, Any] = await bench_workers(url, repeats=repeats)
    return found


async def measure_live(stack: BenchStack, size: dict[str, int], phases: Phases) -> None:
    async with httpx.AsyncClient(base_url=stack.url, timeout=300) as http:
        headers = await sign_up(http)
        await warm_up(http, headers, three_step_graph(), within_s=180)
        await side_by_side(stack, http, headers, size, phases)
        await platform(stack, http, headers, size, phases)


async def side_by_side(
    stack: BenchStack,
    http: httpx.AsyncClient,
    headers: dict[str, str],
    size: dict[str, int],
    phases: Phases,
) -> None:
    """The measures with a hand-written twin, and the fixed cost of a run."""
    await phases.run(
        "throughput",
        f"throughput: {size['throughput_runs']} runs × {size['repeats']}, both modes",
        size["repeats"] * 2,
        lambda advance: bench_throughput(
            stack,
            http,
            headers,
            runs=size["throughput_runs"],
            repeats=size["repeats"],
            advance=advance,
        ),
    )
    await phases.run(
        "steps",
        "40 sequential steps, regular and local, both modes",
        size["step_repeats"] * 2,
        lambda advance: bench_steps(
            stack, http, headers, repeats=size["step_repeats"], advance=advance
        ),
    )
    await phases.run(
        "runs",
        f"start overhead and tracking lag, {size['runs']} runs",
        size["runs"],
        lambda advance: bench_runs(
            stack.url,
            stack.temporal_address,
            stack.admin_url,
            runs=size["runs"],
            console=phases.progress.console,
            advance=advance,
        ),
    )


async def platform(
    stack: BenchStack,
    http: httpx.AsyncClient,
    headers: dict[str, str],
    size: dict[str, int],
    phases: Phases,
) -> None:
    """Workers, the API under load, live streams, many projects: runloom's own costs."""
    await phases.run(
        "workers",
        "cold Build, new version, PSS per project (workers_bench)",
        1,
        lambda advance: _workers(stack.url, 3 if QUICK else 7),
    )
    await phases.run(
        "load",
        f"API under load: 50 clients × {size['load_each']} requests",
        2,
        lambda advance: bench_load(stack, http, headers, each=size["load_each"], advance=advance),
    )
    await phases.run(
        "streams",
        "500 live streams on one API process",
        1,
        lambda advance: bench_streams(stack.url, stack.admin_url),
    )
    await phases.run(
        "projects",
        f"{size['projects']} active projects, 10 runs each at once",
        size["projects"] + 1,
        lambda advance: bench_projects(
            stack,
            http,
            headers,
            count=size["projects"],
            advance=advance,
        ),
    )


def measure_local(raw: dict[str, Any], progress: Progress) -> None:
    task = progress.add_task("compile speed, python node call overhead", total=2)
    raw["compile"] = bench_compile()
    progress.advance(task)
    raw["python_node"] = measure_python_call_overhead(500 if QUICK else 2000)
    progress.advance(task)


def write(raw: dict[str, Any], size: dict[str, int]) -> None:
    rows = build_rows(raw)
    command = ("BENCH_QUICK=1 " if QUICK else "") + "make bench"
    if sys.argv[1:]:
        command += " " + shlex.join(sys.argv[1:])
    notes = [*sizes_note(size, quick=QUICK), *row_notes(rows)]
    notes += missed_notes(rows, raw, profiles=HERE / "profiles")
    notes += [
        f"{key} failed: {text.strip().splitlines()[-1]}"
        for key, text in raw.get("errors", {}).items()
    ]
    sections = {"Where the CPU goes (throughput)": cpu_section(raw)}
    report = Report(
        rows=rows,
        machine=this_machine(),
        command=command,
        sizes=size,
        notes=notes,
        sections={k: v for k, v in sections.items() if v},
    )
    console.print(rich_table(rows, title="runloom vs hand-written temporalio"))
    for line in notes:
        console.print(f"- {line}")
    suffix = ".quick" if QUICK else ""
    (HERE / f"RESULTS{suffix}.md").write_text(report.markdown())
    payload = {**report.as_json(), "raw": raw}
    (HERE / f"results{suffix}.json").write_text(json.dumps(payload, indent=1) + "\n")
    console.print(f"written: benchmarks/RESULTS{suffix}.md, benchmarks/results{suffix}.json")


def main() -> None:
    size = sizes()
    raw: dict[str, Any] = {}
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        measure_local(raw, progress)
        with tempfile.TemporaryDirectory(prefix="runloom-bench-") as tmp:
            stack = BenchStack(Path(tmp))
            task = progress.add_task("starting Postgres, Temporal, runloom up, baseline", total=1)
            try:
                stack.start()
                progress.advance(task)
                asyncio.run(measure_live(stack, size, Phases(progress, raw)))
            finally:
                stack.stop()
    write(raw, size)


if __name__ == "__main__":
    main()
