"""Workers' SDK metrics become one valid exposition, each sample labelled with its project."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from runloom.manager.worker_metrics import relabel_merge

WORKER = """# HELP temporal_request_latency Histogram of client request latencies
# TYPE temporal_request_latency histogram
temporal_request_latency_bucket{operation="Poll",le="0.1"} 3
temporal_request_latency_bucket{operation="Poll",le="+Inf"} 4
temporal_request_latency_sum{operation="Poll"} 1.5
temporal_request_latency_count{operation="Poll"} 4
# HELP temporal_worker_start Count of worker starts
# TYPE temporal_worker_start counter
temporal_worker_start 1
"""


def test_samples_of_every_worker_are_labelled_and_families_written_once() -> None:
    merged = relabel_merge([("p1", WORKER), ("p2", WORKER.replace(" 4\n", " 9\n"))])
    assert merged.count("# TYPE temporal_request_latency histogram") == 1
    assert merged.count("# HELP temporal_worker_start") == 1
    families = {f.name: f for f in text_string_to_metric_families(merged)}
    latency = families["temporal_request_latency"]
    counts = {
        s.labels["project_id"]: s.value
        for s in latency.samples
        if s.name == "temporal_request_latency_count"
    }
    assert counts == {"p1": 4.0, "p2": 9.0}
    assert all(s.labels["operation"] == "Poll" for s in latency.samples)
    starts = [
        s for f in families.values() for s in f.samples if s.name.startswith("temporal_worker")
    ]
    assert sorted(s.labels["project_id"] for s in starts) == ["p1", "p2"]


def test_nothing_to_merge_is_empty() -> None:
    assert relabel_merge([]) == ""
    assert relabel_merge([("p1", "")]) == ""
