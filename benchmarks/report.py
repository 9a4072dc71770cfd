"""The pure half of `make bench`: summaries of samples, rows with targets, the Rich table
and `benchmarks/RESULTS.md`. Nothing here starts a process or opens a socket, so
tests/benchmarks tests it on its own."""

from __future__ import annotations

import os
import platform
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from rich.table import Table

Direction = Literal["min", "max"]


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank `q` quantile (0 ≤ q ≤ 1) of `values`; ValueError when empty."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 1:
        raise ValueError(f"quantile {q} is outside [0, 1]")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass(frozen=True)
class Spread:
    """Median and range of repeated measurements."""

    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        samples = list(values)
        if not samples:
            raise ValueError("spread of no values")
        return cls(statistics.median(samples), min(samples), max(samples), len(samples))

    def as_dict(self) -> dict[str, float]:
        return {"median": self.median, "min": self.low, "max": self.high, "n": self.n}


@dataclass(frozen=True)
class Target:
    """`value <= limit` (direction "max") or `value >= limit` ("min"), on `measure`."""

    limit: float
    direction: Direction
    measure: Literal["value", "ratio"] = "value"

    def met(self, value: float | None, ratio: float | None) -> bool | None:
        checked = ratio if self.measure == "ratio" else value
        if checked is None:
            return None
        return checked <= self.limit if self.direction == "max" else checked >= self.limit

    def describe(self, unit: str) -> str:
        sign = "≤" if self.direction == "max" else "≥"
        if self.measure == "ratio":
            return f"ratio {sign} {self.limit:g}"
        return f"{sign} {format_value(self.limit, unit)}"


@dataclass(frozen=True)
class Row:
    """One line of the table: runloom's figure, the hand-written one when there is one."""

    measure: str
    unit: str
    runloom: Spread | None
    baseline: Spread | None = None
    target: Target | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.runloom is None or self.baseline is None or self.baseline.median == 0:
            return None
        return self.runloom.median / self.baseline.median

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        value = None if self.runloom is None else self.runloom.median
        return self.target.met(value, self.ratio)

    def cells(self) -> tuple[str, str, str, str, str, str]:
        return (
            self.measure,
            format_spread(self.runloom, self.unit),
            format_spread(self.baseline, self.unit),
            "" if self.ratio is None else f"{self.ratio:.3f}×",
            "" if self.target is None else self.target.describe(self.unit),
            {True: "yes", False: "NO", None: ""}[self.met],
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "measure": self.measure,
            "unit": self.unit,
            "runloom": None if self.runloom is None else self.runloom.as_dict(),
            "baseline": None if self.baseline is None else self.baseline.as_dict(),
            "ratio": self.ratio,
            "target": None if self.target is None else self.target.describe(self.unit),
            "met": self.met,
            "note": self.note,
        }


def format_value(value: float, unit: str) -> str:
    if unit == "":
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:.3g} {unit}"


def format_spread(spread: Spread | None, unit: str) -> str:
    if spread is None:
        return "—"
    text = format_value(spread.median, unit)
    low, high = format_value(spread.low, ""), format_value(spread.high, "")
    if spread.n > 1 and low != high:
        text += f" ({low}–{high})"
    return text


TABLE_HEADER = ("measure", "runloom", "hand-written", "ratio", "target", "met?")


def rich_table(rows: Sequence[Row], *, title: str) -> Table:
    table = Table(*TABLE_HEADER, title=title)
    for row in rows:
        cells = row.cells()
        style = "red" if row.met is False else None
        table.add_row(*cells, style=style)
    return table


def markdown_table(rows: Sequence[Row]) -> list[str]:
    lines = ["| " + " | ".join(TABLE_HEADER) + " |", "|" + "---|" * len(TABLE_HEADER)]
    for row in rows:
        cells = [cell.replace("|", "\\|") for cell in row.cells()]
        if row.met is False:
            cells[-1] = "**NO**"
        lines.append("| " + " | ".join(cells) + " |")
    return lines


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    ram_gb: float
    os: str
    python: str
    temporalio: str

    def describe(self) -> str:
        return (
            f"{self.cpu}, {self.cores} cores, {self.ram_gb:.1f} GB RAM; {self.os}; "
            f"Python {self.python}; temporalio {self.temporalio}"
        )


def this_machine() -> Machine:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    return Machine(
        cpu=cpu,
        cores=os.cpu_count() or 0,
        ram_gb=ram,
        os=f"{platform.system()} {platform.release()}",
        python=platform.python_version(),
        temporalio=metadata.version("temporalio"),
    )


@dataclass(frozen=True)
class Report:
    rows: list[Row]
    machine: Machine
    command: str
    sizes: dict[str, int]
    notes: list[str] = field(default_factory=list)
    sections: dict[str, list[str]] = field(default_factory=dict)
    date: datetime = field(default_factory=lambda: datetime.now(UTC))

    def markdown(self) -> str:
        lines = [
            "# runloom benchmarks",
            "",
            f"- date: {self.date:%Y-%m-%d %H:%M} UTC",
            f"- machine: {self.machine.describe()}",
            f"- command: `{self.command}`",
            "- sizes: " + ", ".join(f"{k} = {v}" for k, v in self.sizes.items()),
            "",
            "Medians, with the (min–max) of the repeats; ratio is runloom / hand-written "
            "`temporalio` on the same dev server in the same run.",
            "",
            *markdown_table(self.rows),
            "",
        ]
        for title, body in self.sections.items():
            lines += [f"## {title}", "", *body, ""]
        lines += ["## Notes", "", *(f"- {note}" for note in self.notes)]
        return "\n".join(lines).rstrip() + "\n"

    def as_json(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "machine": self.machine.__dict__,
            "command": self.command,
            "sizes": self.sizes,
            "rows": [row.as_dict() for row in self.rows],
            "notes": self.notes,
        }


def cpu_table(by_mode: dict[str, dict[str, float]], *, runs: int) -> list[str]:
    """Markdown: CPU seconds by process role for each mode, and per run."""
    roles = sorted({role for figures in by_mode.values() for role in figures})
    modes = list(by_mode)
    lines = [
        "| process | " + " | ".join(modes) + " |",
        "|---|" + "---|" * len(modes),
    ]
    for role in [*roles, "total"]:
        cells = []
        for mode in modes:
            figures = by_mode[mode]
            value = sum(figures.values()) if role == "total" else figures.get(role)
            cells.append("" if value is None else f"{value:.1f}")
        lines.append(f"| {role} | " + " | ".join(cells) + " |")
    per_run = [f"{sum(by_mode[m].values()) / runs * 1000:.0f} ms" for m in modes]
    lines.append("| total per run | " + " | ".join(per_run) + " |")
    return lines
