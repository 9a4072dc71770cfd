"""Graphs the benchmarks run."""

from __future__ import annotations

from typing import Any


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
