"""Each quota refusal is counted, under the quota's name."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from runloom.errors import QuotaExceededError
from runloom.services.counters import QUOTA_REFUSALS
from runloom.services.quotas import check_new_run
from runloom.settings import Settings


def test_a_refused_start_counts_one_open_runs_refusal() -> None:
    registry = CollectorRegistry()
    registry.register(QUOTA_REFUSALS)

    def refusals() -> float:
        labels = {"quota": "open_runs"}
        return registry.get_sample_value("runloom_quota_refusals_total", labels) or 0.0

    settings = Settings(runloom_quota_open_runs=3)
    before = refusals()
    check_new_run(open_runs=2, settings=settings)  # room: not counted
    with pytest.raises(QuotaExceededError):
        check_new_run(open_runs=3, settings=settings)
    assert refusals() - before == 1
