"""The API's metrics without a stack: the families a database snapshot becomes, and the
route templates requests are timed under."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from runloom.api.metrics import Snapshot, StateCollector, route_template
from runloom.store.metrics import RunCount


def _scope(path: str, template: str | None) -> Any:
    return {"path": path, "route": SimpleNamespace(path=template) if template else None}


def test_route_templates_keep_their_prefix_and_never_an_id() -> None:
    run = uuid.uuid4()
    assert route_template(_scope(f"/api/executions/{run}", "/executions/{execution_id}")) == (
        "/api/executions/{execution_id}"
    )
    assert route_template(_scope("/api/workflows", "/workflows")) == "/api/workflows"
    assert route_template(_scope("/metrics", "/metrics")) == "/metrics"
    assert route_template(_scope(f"/x/{run}", None)) == "unmatched"
    assert route_template(_scope("/assets/a/b.js", "/{rest:path}")) == "/{rest:path}"


def test_a_snapshot_becomes_counters_by_project_status_and_trigger() -> None:
    project = uuid.uuid4()
    collector = StateCollector()
    collector.snapshot = Snapshot(
        runs=[
            RunCount(project, "started", "manual", 5),
            RunCount(project, "started", "webhook", 2),
            RunCount(project, "completed", "manual", 4),
            RunCount(project, "timed_out", "webhook", 1),
        ],
        workers={"running": 3, "crashed": 1},
    )
    registry = CollectorRegistry()
    registry.register(collector)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for s in family.samples
    }
    p = str(project)
    assert samples[("runloom_runs_started_total", (("project_id", p), ("trigger", "manual")))] == 5
    ended = "runloom_runs_ended_total"
    key = (("project_id", p), ("status", "timed_out"), ("trigger", "webhook"))
    assert samples[(ended, key)] == 1
    assert samples[("runloom_workers", (("state", "running"),))] == 3
    assert samples[("runloom_workers", (("state", "idle"),))] == 0
    assert samples[("runloom_metrics_database_up", ())] == 1
