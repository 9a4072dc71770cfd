"""`make chaos`, part 5: which invariants failed, and `benchmarks/CHAOS.md`."""

from __future__ import annotations

import os
import platform
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.chaos_checks import Findings
from benchmarks.chaos_faults import (
    POSTGRES_DOWN_S,
    TEMPORAL_DOWN_S,
    Fault,
    HealthWatch,
    Injector,
    Outage,
    RegistryWatch,
    outage_of,
)
from benchmarks.chaos_load import Answer, Driver, Setup
from benchmarks.chaos_stack import HEARTBEAT_S


@dataclass
class Result:
    runs: int
    rate: float
    projects: int
    users: int
    phases: dict[str, float] = field(default_factory=dict)
    setup: Setup | None = None
    driver: Driver | None = None
    injector: Injector | None = None
    health: HealthWatch | None = None
    registry: RegistryWatch | None = None
    answers: list[Answer] = field(default_factory=list)
    load_began: float = 0.0
    exited: list[str] = field(default_factory=list)
    orphans_left: list[int] = field(default_factory=list)
    findings: Findings | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)
    wall_s: float = 0.0
    manager_log: dict[str, int] = field(default_factory=dict)
    # wall clock minus monotonic clock, to place database timestamps on the run's timeline
    clock_offset: float = field(default_factory=lambda: time.time() - time.monotonic())


def _faults(result: Result, kind: str) -> list[Fault]:
    return [f for f in (result.injector.faults if result.injector else []) if f.kind == kind]


def outages(result: Result) -> list[Outage]:
    samples = result.health.samples if result.health else []
    return [
        outage_of(fault, samples)
        for kind in ("Temporal restart", "Postgres restart")
        for fault in _faults(result, kind)
    ]


def answers_during(result: Result, outage_kind: str) -> Counter[str]:
    """The API's answers to the driver's requests in flight at any time of the outage
    (from the stop until health answered 200), by status."""
    counts: Counter[str] = Counter()
    for fault in _faults(result, outage_kind):
        outage = outage_of(fault, result.health.samples if result.health else [])
        assert fault.down_at is not None and fault.up_at is not None
        end = fault.up_at + (outage.recovery_s or 0.0)
        for answer in result.answers:
            if answer.at >= fault.down_at and answer.at - answer.took_s <= end:
                json_detail = answer.status < 400 or answer.detail_is_json
                counts[
                    f"{answer.status or 'no answer'}{'' if json_detail else ' (no JSON detail)'}"
                ] += 1
    return counts


def in_flight_at_manager_kill(result: Result) -> tuple[int, int]:
    """Runs started before the manager was killed and ended after it: (count, ended well)."""
    kills = _faults(result, "manager kill")
    if not kills or result.driver is None or result.findings is None:
        return 0, 0
    at = kills[0].at
    rows = {r["id"]: r for r in result.rows}
    bad = {line.split(" ", 1)[0] for line in result.findings.disagreements + result.findings.stuck}
    count = well = 0
    for run in result.driver.started:
        row = rows.get(run.execution_id)
        if run.started_at >= at or row is None:
            continue
        finished = row["finished_at"]
        if finished is not None and finished.timestamp() - result.clock_offset < at:
            continue
        count += 1
        well += row["status"] not in ("pending", "running") and run.execution_id not in bad
    return count, well


def failures(result: Result) -> list[str]:
    failed: list[str] = []

    def some(what: str, items: list[str]) -> None:
        if items:
            shown = "; ".join(items[:5]) + (f"; … {len(items) - 5} more" if len(items) > 5 else "")
            failed.append(f"{len(items)} {what}: {shown}")

    found = result.findings
    if found is None:
        return ["the checks did not run"]
    started = len(result.driver.started) if result.driver else 0
    if started < result.runs:
        failed.append(f"only {started} of {result.runs} runs could be started")
    some("runs lost", found.lost)
    some("runs stuck open", found.stuck)
    some("duplicates", found.duplicates)
    some("Temporal runs without a row", found.phantoms)
    some("rows that disagree with Temporal", found.disagreements)
    some("unexpected outcomes", found.unexpected)
    some("statistics mismatches", found.stats_mismatches)
    some("requests given up", result.driver.gave_up if result.driver else [])
    some(
        "API answers 500",
        [f"{a.method} {a.path}" for a in result.answers if a.status == 500],
    )
    for outage in outages(result):
        if outage.recovery_s is None:
            failed.append(f"{outage.kind}: /api/health never answered 200 again")
        some(f"{outage.kind}: health answers other than 503 with a JSON detail", outage.bad_answers)
    wrong = [
        f"{n}× {what}"
        for what, n in answers_during(result, "Postgres restart").items()
        if not (what.startswith(("2", "503")) and "no JSON" not in what)
    ]
    some("answers during the Postgres outage other than 2xx or 503 with a JSON detail", wrong)
    some("runloom processes that exited by themselves", result.exited)
    some(
        "worker processes of the killed manager still running",
        [str(p) for p in result.orphans_left],
    )
    count, well = in_flight_at_manager_kill(result)
    if well < count:
        failed.append(f"{count - well} of {count} runs in flight at the manager kill ended badly")
    return failed


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f} s"


def _summary(result: Result, failed: list[str]) -> list[str]:
    found = result.findings or Findings()
    started = len(result.driver.started) if result.driver else 0
    flows = len(result.setup.flows) if result.setup else 0
    unrecorded = (
        f" ({found.unrecorded_starts} terminated by the API itself because it could not "
        "record them: no row, by design)."
        if found.unrecorded_starts
        else "."
    )
    return [
        "# Chaos run",
        "",
        "Generated by `make chaos` (`benchmarks/chaos.py`); do not edit by hand.",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs "
        f"({platform.machine()}, Python {platform.python_version()}). "
        f"{result.runs} runs at {result.rate:g}/s across {result.projects} projects of "
        f"{result.users} users ({flows} workflows: 1–3 s durable timers, wait_for_signal "
        "signalled by the driver, python nodes, condition/transform branches, failing python "
        "steps), one `runloom api`, two `runloom manager` "
        f"(RUNLOOM_WORKER_HEARTBEAT_S={HEARTBEAT_S}).",
        "",
        f"**Result: {'every invariant held' if not failed else 'INVARIANTS FAILED'}.** "
        f"Total wall time {result.wall_s:.0f} s.",
        "",
        "| invariant | value |",
        "|---|---|",
        f"| runs started (201 through the API) | {started} |",
        f"| execution rows checked against Temporal | {found.rows} |",
        "| runs lost (no row, no Temporal run, or still open) | "
        f"{len(found.lost) + len(found.stuck)} |",
        f"| duplicates (rows or Temporal runs per workflow id) | {len(found.duplicates)} |",
        f"| Temporal runs on the projects' queues without a row | {len(found.phantoms)} |",
        f"| rows whose status or output differ from Temporal's | {len(found.disagreements)} |",
        f"| outcomes their graph cannot give (e.g. a signal not heard) | {len(found.unexpected)} |",
        f"| statistics mismatches ({found.stats_checked} counters checked) | "
        f"{len(found.stats_mismatches)} |",
        f"| API answers 500 | {sum(1 for a in result.answers if a.status == 500)} |",
        f"| runloom processes that exited by themselves | {len(result.exited)} |",
        f"| workers of the killed manager left running | {len(result.orphans_left)} |",
        "",
        "Runs by status: "
        + ", ".join(f"{s} {n}" for s, n in sorted(found.by_status.items()))
        + f". Temporal runs on the projects' queues: {found.temporal_runs}{unrecorded}",
    ]


def _faults_and_outages(result: Result) -> list[str]:
    faults = sorted(result.injector.faults if result.injector else [], key=lambda f: f.at)
    lines = [
        "",
        "## Faults",
        "",
        "| at (s into the load) | fault | detail |",
        "|---|---|---|",
        *(f"| {f.at - result.load_began:.1f} | {f.kind} | {f.detail} |" for f in faults),
        "",
        "## Outages seen through the API",
        "",
        "| outage | `/api/health` not 200 for | recovered after the service was back | "
        "slowest health answer | answers not 503 + JSON `detail` | what the 503s said |",
        "|---|---|---|---|---|---|",
    ]
    for outage in outages(result):
        said = ", ".join(f"{detail} ×{n}" for detail, n in outage.details.most_common())
        lines.append(
            f"| {outage.kind} | {outage.window_s:.1f} s | {_seconds(outage.recovery_s)} | "
            f"{outage.slowest_s:.1f} s | {len(outage.bad_answers)} | {said} |"
        )
    for kind, down in (
        ("Postgres restart", POSTGRES_DOWN_S),
        ("Temporal restart", TEMPORAL_DOWN_S),
    ):
        counts = answers_during(result, kind)
        shown = ", ".join(f"{what}: {n}" for what, n in sorted(counts.items())) or "none"
        lines.append(
            f"\nAnswers to the driver's requests in flight during the {kind} "
            f"({down:g} s down): {shown}."
        )
    lag = result.health.lag_s if result.health else 0.0
    lines.append(f"\nThe driver's own event loop woke at most {lag:.2f} s late.")
    return lines


def _manager_kill(result: Result) -> list[str]:
    count, well = in_flight_at_manager_kill(result)
    takeover = None
    kills = _faults(result, "manager kill")
    if kills and result.registry:
        takeover = result.registry.all_back(kills[0].at, result.projects)
    logged = ", ".join(f"{what}: {n}" for what, n in result.manager_log.items()) or "nothing"
    return [
        "",
        "## Manager kill",
        "",
        f"{kills[0].detail if kills else 'none'}. Runs in flight at the kill: {count}; ended "
        f"as Temporal reports: {well}. Every project had a live worker again "
        f"{_seconds(takeover)} after the kill (stale after 3 heartbeats).",
        "",
        f"What the managers logged: {logged}.",
    ]


def _timing(result: Result, failed: list[str]) -> list[str]:
    lines = [
        "",
        "## Timing",
        "",
        "| phase | seconds |",
        "|---|---|",
        *(f"| {name} | {seconds:.1f} |" for name, seconds in result.phases.items()),
        f"| total wall time | {result.wall_s:.1f} |",
    ]
    retries = result.driver.retries if result.driver else Counter()
    if retries:
        shown = ", ".join(f"{what} ×{n}" for what, n in sorted(retries.items()))
        lines += ["", f"Requests the driver retried: {shown}."]
    lines += ["", "## Failed invariants", ""]
    lines += [f"- {line}" for line in failed] or ["None."]
    return lines


def write_report(path: Path, result: Result, failed: list[str]) -> None:
    lines = [
        *_summary(result, failed),
        *_faults_and_outages(result),
        *_manager_kill(result),
        *_timing(result, failed),
    ]
    path.write_text("\n".join(lines) + "\n")
