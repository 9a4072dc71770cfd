"""deploy/grafana/runloom.json charts only metrics runloom serves, under their names."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from runloom.api.metrics import ApiMetrics
from runloom.manager.metrics import REGISTRY, workers_family

DASHBOARD = Path(__file__).parents[1] / "deploy" / "grafana" / "runloom.json"
# What the project workers' Temporal SDK serves (seen in tests/api/test_metrics.py).
SDK = {
    "temporal_activity_execution_latency",
    "temporal_workflow_task_execution_latency",
    "temporal_activity_schedule_to_start_latency",
}


_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def _served() -> set[str]:
    """The sample names of every family the API and the manager serve, samples or not."""
    api = ApiMetrics()
    pool = SimpleNamespace(get_stats=dict, max_size=1)
    api.collector.state = SimpleNamespace(live=SimpleNamespace(open_streams=0), pool=pool)  # type: ignore[assignment]
    families = [*api.registry.collect(), *REGISTRY.collect(), workers_family([])]
    return {
        family.name + suffix for family in families for suffix in _SUFFIXES.get(family.type, ("",))
    }


def _exprs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        return found + [e for value in node.values() for e in _exprs(value)]
    if isinstance(node, list):
        return [e for value in node for e in _exprs(value)]
    return []


def test_every_metric_the_dashboard_charts_is_served() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = _exprs(dashboard["panels"])
    used = {n for e in exprs for n in re.findall(r"\b(?:runloom|temporal)_[a-z_]+\b", e)}
    assert len(exprs) >= 14
    served = _served()
    for name in used:
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in served or base in SDK, name
