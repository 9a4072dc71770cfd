"""The table rows of `make bench`, made from the raw figures (plain dicts and lists, as
written to benchmarks/results.json): pure, so tests/benchmarks can check them."""

from __future__ import annotations

import dataclasses
from typing import Any

from benchmarks.report import Row, Spread, Target, percentile

Raw = dict[str, Any]


def _spread(values: Any) -> Spread | None:
    if values is None:
        return None
    if isinstance(values, dict) and "median" in values:
        median = float(values["median"])
        return Spread(
            median,
            float(values.get("min", median)),
            float(values.get("max", median)),
            int(values.get("n", 1)),
        )
    if isinstance(values, list | tuple):
        return Spread.of(float(v) for v in values) if values else None
    return Spread.of([float(values)])


def _quantiles(samples: list[float], *, label: str, unit: str) -> list[Row]:
    rows = []
    for name, q in (("p50", 0.5), ("p99", 0.99)):
        rows.append(Row(f"{label} {name}", unit, _spread(percentile(samples, q))))
    return rows


def throughput_rows(raw: Raw) -> list[Row]:
    found = raw.get("throughput")
    if not found:
        return []
    runs = found["runs"]
    return [
        Row(
            f"throughput, {runs} three-step runs, 16 clients",
            "runs/s",
            _spread(found["runloom_per_s"]),
            _spread(found["baseline_per_s"]),
            Target(0.90, "min", "ratio"),
            note=f"{found['incomplete']} runs did not complete" if found["incomplete"] else "",
        )
    ]


def steps_rows(raw: Raw) -> list[Row]:
    rows = []
    for times in raw.get("steps", []):
        kind = "local activities" if times["local"] else "regular activities"
        rows.append(
            Row(
                f"40 sequential steps, {kind}, start → recorded result",
                "s",
                _spread(times["runloom_s"]),
                _spread(times["baseline_s"]),
                Target(1.15, "max", "ratio"),
            )
        )
    return rows


def _seconds(figures: Any) -> Spread | None:
    """A spread in seconds of workers_bench's `{samples_ms | median_ms, min_ms, max_ms}`."""
    if not isinstance(figures, dict):
        return None
    if figures.get("samples_ms"):
        return Spread.of(float(v) / 1000 for v in figures["samples_ms"])
    if "median_ms" not in figures:
        return None
    median = float(figures["median_ms"]) / 1000
    low = float(figures.get("min_ms", median * 1000)) / 1000
    high = float(figures.get("max_ms", median * 1000)) / 1000
    return Spread(median, low, high, 1 if low == high else 2)


def workers_rows(raw: Raw) -> list[Row]:
    """Rows of benchmarks/workers_bench.py's figures (cold Build, new version, PSS)."""
    found = raw.get("workers")
    if not isinstance(found, dict):
        return []
    rows = []
    cold = _seconds(found.get("cold_build_to_result"))
    if cold is not None:
        rows.append(
            Row(
                "Build → result, project without a running worker (cold)",
                "s",
                cold,
                target=Target(0.5, "max"),
            )
        )
    new_version = _seconds(found.get("new_version_to_result"))
    if new_version is not None:
        rows.append(
            Row(
                "Build → result after a graph change (new version, worker running)",
                "s",
                new_version,
                target=Target(0.15, "max"),
            )
        )
    memory = found.get("memory")
    if isinstance(memory, dict) and "pss_per_additional_project_mb" in memory:
        more = memory.get("additional_projects")
        rows.append(
            Row(
                "PSS per additional active project",
                "MB",
                _spread(memory["pss_per_additional_project_mb"]),
                target=Target(25.0, "max"),
                note=f"measured over {more} more active projects" if more else "",
            )
        )
    return rows


def runs_rows(raw: Raw) -> list[Row]:
    found = raw.get("runs")
    if not found:
        return []
    api, bare = found["api_start_ms"], found["bare_start_ms"]
    overhead = percentile(api, 0.5) - percentile(bare, 0.5)
    return [
        Row(
            "start: API vs bare client p50",
            "ms",
            _spread(percentile(api, 0.5)),
            _spread(percentile(bare, 0.5)),
        ),
        Row(
            "start overhead p50 (API − bare client)",
            "ms",
            _spread(overhead),
            target=Target(10.0, "max"),
        ),
        Row(
            "tracking lag, Temporal close → recorded, p50",
            "ms",
            _spread(percentile(found["tracking_lag_ms"], 0.5)),
            target=Target(10.0, "max"),
        ),
        Row("tracking lag p95", "ms", _spread(percentile(found["tracking_lag_ms"], 0.95))),
        Row("SQL statements per start", "", _spread(found["sql_statements_per_start"])),
        Row("SQL statements per tracked end", "", _spread(found["sql_statements_per_tracked_end"])),
        Row("statistics read p50", "ms", _spread(percentile(found["stats_endpoint_ms"], 0.5))),
    ]


def projects_rows(raw: Raw) -> list[Row]:
    found = raw.get("projects")
    if not found:
        return []
    count, runs = found["projects"], found["runs"]
    peak, cpu = found["peak"], found["cpu"]
    manager = found["manager_in"]
    busy = found.get("busy_retries", 0)
    refused = found.get("refused", {})
    where = "" if manager == "manager" else " (inside `runloom up`)"
    rows = [
        Row(
            f"{count} active projects, {runs} runs at once: completed",
            "",
            _spread(found["completed"]),
            target=Target(runs, "min"),
            note="; ".join(f"{n} starts refused: {why}" for why, n in refused.items()),
        ),
        Row(
            f"{count} active projects: drain time",
            "s",
            _spread(found["drain_s"]),
            note=f"{busy} starts answered 503 (busy) and were retried" if busy else "",
        ),
        Row(
            f"{count} projects: created, built and run once (workers up)",
            "s",
            _spread(found["ready_s"]),
            note=f"{found.get('workers_seen', 0)} worker processes",
        ),
        Row(f"{count} active projects: manager CPU{where}", "s", _spread(cpu.get(manager, 0.0))),
        Row(f"{count} active projects: workers CPU", "s", _spread(cpu.get("workers", 0.0))),
    ]
    for key, label in (
        ("manager_rss_mb", "manager peak RSS"),
        ("manager_pss_mb", "manager peak PSS"),
        ("with_workers_rss_mb", "manager + workers (with python runners) peak RSS"),
        ("with_workers_pss_mb", "manager + workers (with python runners) peak PSS"),
    ):
        if key in peak:
            rows.append(Row(f"{count} active projects: {label}", "MB", _spread(peak[key])))
    return rows


def load_rows(raw: Raw) -> list[Row]:
    found = raw.get("load")
    if not found:
        return []
    clients = found["clients"]
    rows = _quantiles(found["list_ms"], label=f"GET /api/projects, {clients} clients", unit="ms")
    rows += _quantiles(found["start_ms"], label=f"start a run, {clients} clients", unit="ms")
    if found.get("errors"):
        rows[-1] = dataclasses.replace(rows[-1], note=f"{found['errors']} requests answered >= 400")
    return rows


def other_rows(raw: Raw) -> list[Row]:
    rows = []
    for key, samples in raw.get("compile", {}).items():
        rows.append(
            Row(
                key.removesuffix("_ms").replace("_", " ") + " p50",
                "ms",
                _spread(percentile(samples, 0.5)),
            )
        )
    python = raw.get("python_node", {})
    if "overhead_p50_us" in python:
        rows.append(
            Row(
                f"python node call, sandboxed ({python.get('isolation')}) vs in-thread, "
                "overhead p50",
                "µs",
                _spread(python["overhead_p50_us"]),
            )
        )
    streams = raw.get("streams", {})
    for key in (
        "live_stream_queries_while_idle",
        "node_change_to_50_streams_ms_p50",
        "sign_in_ms_p50_with_500_streams",
    ):
        if key in streams:
            unit = "ms" if "_ms" in key else ""
            label = key.replace("_ms", "").replace("_", " ")
            rows.append(Row(label, unit, _spread(streams[key])))
    return rows


def build_rows(raw: Raw) -> list[Row]:
    return [
        *throughput_rows(raw),
        *steps_rows(raw),
        *workers_rows(raw),
        *runs_rows(raw),
        *projects_rows(raw),
        *load_rows(raw),
        *other_rows(raw),
    ]
