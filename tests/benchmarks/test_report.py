"""The pure parts of `make bench`: summaries, targets, the table and RESULTS.md."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from benchmarks.report import (
    Machine,
    Report,
    Row,
    Spread,
    Target,
    cpu_table,
    format_spread,
    markdown_table,
    percentile,
    rich_table,
)

MACHINE = Machine(
    cpu="Test CPU", cores=2, ram_gb=24.0, os="Linux 6", python="3.12.1", temporalio="1.9.0"
)


def test_percentile_is_nearest_rank() -> None:
    values = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert percentile(values, 0.5) == 3.0
    assert percentile(values, 0.0) == 1.0
    assert percentile(values, 1.0) == 5.0
    assert percentile(list(range(1, 101)), 0.99) == 99


def test_percentile_refuses_nothing_and_bad_quantiles() -> None:
    with pytest.raises(ValueError, match="percentile of no values"):
        percentile([], 0.5)
    with pytest.raises(ValueError, match=r"quantile 1.5 is outside \[0, 1\]"):
        percentile([1.0], 1.5)


def test_spread_has_median_and_range() -> None:
    spread = Spread.of([3.0, 1.0, 10.0])
    assert (spread.median, spread.low, spread.high, spread.n) == (3.0, 1.0, 10.0, 3)
    assert format_spread(spread, "s") == "3 s (1–10)"
    assert format_spread(Spread.of([2.5]), "ms") == "2.5 ms"
    assert format_spread(Spread.of([2.081, 2.084]), "s") == "2.08 s"
    assert format_spread(None, "s") == "—"


def test_targets_on_value_and_on_ratio() -> None:
    at_most = Target(10.0, "max")
    assert at_most.met(9.0, None) is True
    assert at_most.met(11.0, None) is False
    assert at_most.met(None, None) is None
    at_least_ratio = Target(0.9, "min", "ratio")
    assert at_least_ratio.met(1.0, 0.95) is True
    assert at_least_ratio.met(100.0, 0.6) is False
    assert at_least_ratio.describe("runs/s") == "ratio ≥ 0.9"
    assert at_most.describe("ms") == "≤ 10 ms"


def test_row_ratio_and_cells() -> None:
    row = Row(
        "throughput",
        "runs/s",
        Spread.of([12.0, 11.0, 13.0]),
        Spread.of([18.0, 18.0, 18.0]),
        Target(0.9, "min", "ratio"),
    )
    assert row.ratio == pytest.approx(12.0 / 18.0)
    assert row.met is False
    assert row.cells() == (
        "throughput",
        "12 runs/s (11–13)",
        "18 runs/s",
        "0.667×",
        "ratio ≥ 0.9",
        "NO",
    )
    alone = Row("lag", "ms", Spread.of([4.0]), target=Target(10.0, "max"))
    assert alone.ratio is None
    assert alone.met is True
    assert Row("lag", "ms", None, target=Target(10.0, "max")).met is None


def test_markdown_table_marks_misses() -> None:
    rows = [
        Row("a|b", "s", Spread.of([1.0]), target=Target(0.5, "max")),
        Row("c", "s", Spread.of([0.1]), target=Target(0.5, "max")),
    ]
    lines = markdown_table(rows)
    assert lines[0] == "| measure | runloom | hand-written | ratio | target | met? |"
    assert lines[2] == "| a\\|b | 1 s | — |  | ≤ 0.5 s | **NO** |"
    assert lines[3].endswith("| yes |")
    assert rich_table(rows, title="t").row_count == 2


def test_report_markdown_names_machine_date_command_and_notes() -> None:
    report = Report(
        rows=[Row("lag", "ms", Spread.of([40.0]), target=Target(10.0, "max"))],
        machine=MACHINE,
        command="make bench",
        sizes={"projects": 200},
        notes=["a note"],
        sections={"Where the CPU goes": ["| process |"]},
        date=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
    )
    text = report.markdown()
    assert "- date: 2026-01-02 03:04 UTC" in text
    assert "Test CPU, 2 cores, 24.0 GB RAM; Linux 6; Python 3.12.1; temporalio 1.9.0" in text
    assert "- command: `make bench`" in text
    assert "- sizes: projects = 200" in text
    assert "## Where the CPU goes" in text
    assert "| lag | 40 ms | — |  | ≤ 10 ms | **NO** |" in text
    assert text.endswith("- a note\n")
    assert report.as_json()["rows"][0]["met"] is False


def test_cpu_table_totals_and_per_run() -> None:
    lines = cpu_table(
        {"hand-written": {"temporal": 10.0, "client": 4.0}, "runloom": {"temporal": 14.0}},
        runs=200,
    )
    assert lines[0] == "| process | hand-written | runloom |"
    assert "| client | 4.0 |  |" in lines
    assert "| total | 14.0 | 14.0 |" in lines
    assert lines[-1] == "| total per run | 70 ms | 70 ms |"
