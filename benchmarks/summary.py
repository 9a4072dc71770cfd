"""The prose of benchmarks/RESULTS.md: where the CPU goes, what was missed, and why
(pure: raw figures in, Markdown lines out)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.report import Row, cpu_table


def cpu_section(raw: dict[str, Any]) -> list[str]:
    """CPU seconds by process for the throughput runs, both modes, and what differs most."""
    found = raw.get("throughput")
    if not found or not found.get("runloom_cpu"):
        return []
    runs = int(found["runs"])
    modes = {"hand-written": found["baseline_cpu"], "runloom": found["runloom_cpu"]}
    lines = [
        f"CPU seconds by process for {runs} three-step runs (mean of the repeats; user + "
        "system, children a process reaped included). On a machine this small throughput "
        "is bound by CPU, so CPU per run is what sets the ratio.",
        "",
        *cpu_table(modes, runs=runs),
        "",
    ]
    base, ours = modes["hand-written"], modes["runloom"]
    total_base, total_ours = sum(base.values()), sum(ours.values())
    if total_base > 0:
        # The hand-written worker does the project workers' job: compare them as one role.
        alike = {("workers" if r == "baseline worker" else r): v for r, v in base.items()}
        extra = sorted(
            ((ours.get(r, 0.0) - alike.get(r, 0.0), r) for r in {*alike, *ours}), reverse=True
        )
        biggest = ", ".join(f"{role} {delta:+.1f} s" for delta, role in extra[:4] if delta > 0)
        lines.append(
            f"runloom spends {total_ours / total_base:.2f}× the CPU of hand-written code per "
            f"run ({total_ours / runs * 1000:.0f} ms against {total_base / runs * 1000:.0f} "
            f"ms); the largest differences (the project workers against the hand-written "
            f"worker): {biggest or 'none'}."
        )
    return lines


def _why(measure: str, raw: dict[str, Any]) -> str:
    """What the raw figures say about where a missed measure's time or memory goes."""
    runs = raw.get("runs") or {}
    python = raw.get("python_node") or {}
    if measure.startswith("throughput"):
        return "CPU per run by process: see 'Where the CPU goes'"
    if measure.startswith("40 sequential") and "overhead_p50_us" in python:
        per_run = python["overhead_p50_us"] * 40 / 1000
        return (
            f"each python node call costs {python['overhead_p50_us']:.0f} µs p50 more in a "
            f"sandboxed runner than in a thread, {per_run:.1f} ms over 40 steps"
        )
    if measure.startswith("start overhead") and "sql_statements_per_start" in runs:
        return f"{runs['sql_statements_per_start']:.1f} SQL statements per start"
    if measure.startswith("tracking lag") and "sql_statements_per_tracked_end" in runs:
        return f"{runs['sql_statements_per_tracked_end']:.1f} SQL statements per tracked end"
    if "PSS" in measure:
        return "PSS of the first worker, of all and of the zygote: results.json, raw.workers"
    return ""


def missed_notes(rows: list[Row], raw: dict[str, Any], *, profiles: Path) -> list[str]:
    """One note per missed target with what the figures say about it, then the profiles."""
    missed = [row for row in rows if row.met is False]
    if not missed:
        return ["Every target with a figure was met."]
    notes = []
    for row in missed:
        assert row.target is not None
        target = row.target.describe(row.unit)
        why = _why(row.measure, raw)
        notes.append(
            f"Missed: {row.measure} ({row.cells()[1]}, target {target})"
            + (f": {why}." if why else ".")
        )
    found = sorted(p.name for p in profiles.glob("*")) if profiles.is_dir() else []
    if found:
        notes.append(
            "Where the time goes in detail: the profiles of the hot path in "
            f"benchmarks/profiles/ ({', '.join(found[:6])}), from benchmarks/profile_hot_path.py."
        )
    else:
        notes.append(
            "Where the time goes in detail: profile the hot path with "
            "benchmarks/profile_hot_path.py (pyinstrument)."
        )
    return notes


def row_notes(rows: list[Row]) -> list[str]:
    return [f"{row.measure}: {row.note}." for row in rows if row.note]


def sizes_note(sizes: dict[str, int], *, quick: bool) -> list[str]:
    if not quick:
        return []
    return [
        "BENCH_QUICK=1 (sizes: "
        + ", ".join(f"{k} {v}" for k, v in sizes.items())
        + "): a check that the benchmark works, not figures to compare with the targets."
    ]
