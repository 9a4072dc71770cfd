"""Graphs the benchmarks run; benchmarks/baseline.py holds their hand-written twins."""

from __future__ import annotations

from typing import Any

# What the baseline's `bench_step` activity does, as a python node.
STEP_CODE = "return {'i': input.get('i', 0), 'step': len(steps)}"


def approval_graph() -> dict[str, Any]:
    """Runs that stay open until signalled, so starting and tracking are measured apart."""
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "approve",
                "type": "wait_for_signal",
                "config": {"signal": "go", "timeout_s": 600},
            },
            {"id": "work", "type": "python", "config": {"code": "return {'ok': True}"}},
            {"id": "end", "type": "end", "config": {"output": "{{ steps.work }}"}},
        ],
        "edges": [
            {"source": "start", "target": "approve"},
            {"source": "approve", "target": "work"},
            {"source": "work", "target": "end"},
        ],
    }


def steps_graph(count: int, *, local: bool = False) -> dict[str, Any]:
    """start → `count` python nodes in a row → end: each node one activity (a local one
    when `local`), like the baseline's `bench_step` calls."""
    nodes: list[dict[str, Any]] = [{"id": "start", "type": "start"}]
    edges: list[dict[str, Any]] = []
    previous = "start"
    for i in range(count):
        node_id = f"step_{i}"
        node: dict[str, Any] = {"id": node_id, "type": "python", "config": {"code": STEP_CODE}}
        if local:
            node["local"] = True
        nodes.append(node)
        edges.append({"source": previous, "target": node_id})
        previous = node_id
    nodes.append({"id": "end", "type": "end", "config": {"output": f"{{{{ steps.{previous} }}}}"}})
    edges.append({"source": previous, "target": "end"})
    return {"nodes": nodes, "edges": edges}


def three_step_graph() -> dict[str, Any]:
    """The throughput graph: three activities, as the baseline's `bench_three_steps`."""
    return steps_graph(3)
