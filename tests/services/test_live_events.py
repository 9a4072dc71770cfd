"""The live-event format: what the manager and the tracker NOTIFY, and every API reads."""

from __future__ import annotations

import json
import uuid

import pytest

from runloom import naming
from runloom.services.live_events import LiveEvent, events_of_changes, payloads
from runloom.worker.protocol import NodeState


def test_changes_group_by_execution_and_keep_each_nodes_latest_state() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    wid_a = naming.temporal_workflow_id(key="orders", execution_id=a)
    wid_b = naming.temporal_workflow_id(key="my-flow", execution_id=b)
    events = events_of_changes(
        [
            NodeState(wid_a, "r1", "fetch", {"status": "running"}),
            NodeState(wid_b, "r2", "x", {"status": "running"}),
            NodeState(wid_a, "r1", "fetch", {"status": "completed"}),
            NodeState("a-child-workflow", "r3", "y", {"status": "running"}),
        ]
    )
    assert events == [
        LiveEvent(a, {"fetch": {"status": "completed"}}),
        LiveEvent(b, {"x": {"status": "running"}}),
    ]


def test_round_trip_and_refusal_of_foreign_payloads() -> None:
    event = LiveEvent(uuid.uuid4(), {"n": {"status": "failed", "error": "boom"}}, finished=True)
    assert LiveEvent.decode(event.encode()) == event
    nodes_not_an_object = json.dumps({"e": str(uuid.uuid4()), "n": [1]})
    for bad in ("{}", '{"e": "not-a-uuid"}', nodes_not_an_object, "not json"):
        with pytest.raises((ValueError, KeyError)):
            LiveEvent.decode(bad)


def test_a_large_event_is_split_below_postgres_notify_limit() -> None:
    nodes = {f"node_{i}": {"status": "running", "error": "e" * 100} for i in range(200)}
    event = LiveEvent(uuid.uuid4(), nodes)
    parts = list(payloads([event]))
    assert len(parts) > 1
    assert all(len(p.encode()) < 8000 for p in parts)
    merged: dict[str, object] = {}
    for part in parts:
        merged.update(LiveEvent.decode(part).nodes)
    assert merged == nodes
