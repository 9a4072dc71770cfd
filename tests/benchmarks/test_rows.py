"""The rows `make bench` makes of its raw figures, and the notes of RESULTS.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.report import Spread
from benchmarks.rows import build_rows, workers_rows
from benchmarks.summary import cpu_section, missed_notes, row_notes, sizes_note

RAW: dict[str, Any] = {
    "throughput": {
        "runs": 500,
        "runloom_per_s": [17.0, 18.0, 16.0],
        "baseline_per_s": [18.0, 19.0, 18.5],
        "runloom_cpu": {"temporal": 14.0, "workers": 6.0},
        "baseline_cpu": {"temporal": 10.0, "baseline worker": 3.0, "client": 1.0},
        "incomplete": 0,
    },
    "steps": [
        {"local": False, "runloom_s": [2.1, 2.2], "baseline_s": [2.0, 2.0]},
        {"local": True, "runloom_s": [0.24, 0.25], "baseline_s": [0.1, 0.1]},
    ],
    "runs": {
        "api_start_ms": [10.0, 12.0, 14.0],
        "bare_start_ms": [5.0, 5.0, 6.0],
        "tracking_lag_ms": [3.0, 4.0, 50.0],
        "sql_statements_per_start": 9.0,
        "sql_statements_per_tracked_end": 6.0,
        "stats_endpoint_ms": [5.0],
    },
    "projects": {
        "projects": 200,
        "runs": 2000,
        "completed": 1999,
        "drain_s": 120.0,
        "ready_s": 60.0,
        "workers_seen": 201,
        "refused": {"502 Temporal refused": 1},
        "manager_in": "manager",
        "cpu": {"manager": 30.0, "workers": 200.0},
        "peak": {"manager_pss_mb": 80.0},
    },
    "load": {"clients": 50, "list_ms": [1.0, 2.0, 3.0], "start_ms": [10.0, 20.0], "errors": 3},
}


def _by_measure(raw: dict[str, Any]) -> dict[str, Any]:
    return {row.measure: row for row in build_rows(raw)}


def test_rows_carry_ratios_and_targets() -> None:
    rows = _by_measure(RAW)
    throughput = rows["throughput, 500 three-step runs, 16 clients"]
    assert throughput.runloom is not None and throughput.runloom.median == 17.0
    assert throughput.ratio is not None and round(throughput.ratio, 3) == round(17 / 18.5, 3)
    assert throughput.met is True
    regular = rows["40 sequential steps, regular activities, start → recorded result"]
    local = rows["40 sequential steps, local activities, start → recorded result"]
    assert regular.met is True
    assert local.met is False
    overhead = rows["start overhead p50 (API − bare client)"]
    assert overhead.runloom is not None and overhead.runloom.median == 7.0
    assert overhead.met is True
    assert rows["tracking lag, Temporal close → recorded, p50"].met is True
    completed = rows["200 active projects, 2000 runs at once: completed"]
    assert completed.met is False
    assert "GET /api/projects, 50 clients p99" in rows


def test_missing_measures_make_no_rows() -> None:
    assert build_rows({}) == []
    assert build_rows({"throughput": None, "workers": None}) == []


def test_workers_rows_of_workers_bench_figures() -> None:
    rows = workers_rows(
        {
            "workers": {
                "cold_build_to_result": {
                    "median_ms": 400.0,
                    "min_ms": 300.0,
                    "max_ms": 600.0,
                    "samples_ms": [400.0, 300.0, 600.0],
                },
                "new_version_to_result": {"median_ms": 200.0, "min_ms": 190.0, "max_ms": 210.0},
                "memory": {"additional_projects": 10, "pss_per_additional_project_mb": 30.0},
            }
        }
    )
    cold, new_version, memory = rows
    assert cold.runloom == Spread(0.4, 0.3, 0.6, 3)
    assert cold.met is True
    assert new_version.runloom is not None and new_version.runloom.median == 0.2
    assert new_version.met is False
    assert memory.unit == "MB"
    assert memory.met is False
    assert memory.note == "measured over 10 more active projects"
    assert workers_rows({"workers": None}) == []
    assert workers_rows({"workers": {"cold_build_to_result": {}}}) == []


def test_cpu_section_names_the_biggest_differences() -> None:
    lines = cpu_section(RAW)
    assert "| temporal | 10.0 | 14.0 |" in lines
    assert lines[-1].startswith("runloom spends 1.43× the CPU of hand-written code per run")
    assert "temporal +4.0 s" in lines[-1]
    assert "workers +3.0 s" in lines[-1]  # against the hand-written worker's 3.0 s
    assert cpu_section({}) == []


def test_missed_notes_and_quick_note(tmp_path: Path) -> None:
    raw = {**RAW, "python_node": {"overhead_p50_us": 100.0}}
    notes = missed_notes(build_rows(raw), raw, profiles=tmp_path / "none")
    assert (
        "Missed: 40 sequential steps, local activities, start → recorded result "
        "(0.245 s (0.24–0.25), target ratio ≤ 1.15): each python node call costs 100 µs p50 "
        "more in a sandboxed runner than in a thread, 4.0 ms over 40 steps."
    ) in notes
    assert notes[-1].startswith("Where the time goes in detail: profile the hot path")
    (tmp_path / "start.html").write_text("")
    assert "start.html" in missed_notes(build_rows(RAW), RAW, profiles=tmp_path)[-1]
    assert missed_notes([], {}, profiles=tmp_path) == ["Every target with a figure was met."]
    assert sizes_note({"projects": 10}, quick=True)[0].startswith(
        "BENCH_QUICK=1 (sizes: projects 10)"
    )
    assert sizes_note({"projects": 10}, quick=False) == []


def test_row_notes_name_their_row() -> None:
    assert row_notes(build_rows(RAW)) == [
        "200 active projects, 2000 runs at once: completed: "
        "1 starts refused: 502 Temporal refused.",
        "200 projects: created, built and run once (workers up): 201 worker processes.",
        "start a run, 50 clients p99: 3 requests answered >= 400.",
    ]
