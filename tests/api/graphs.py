"""Small graphs the API tests build and run."""

from __future__ import annotations

from typing import Any


def transform_graph(multiplier: int = 2) -> dict[str, Any]:
    """input.n → steps.double = n * multiplier → end returns {"result": ...}."""
    return {
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}},
            {
                "id": "double",
                "type": "transform",
                "config": {"output": {"value": f"{{{{ input.n * {multiplier} }}}}"}},
            },
            {
                "id": "shape",
                "type": "python",
                "config": {"code": "return {'result': steps['double']['value'] + 1}"},
            },
            {"id": "end", "type": "end", "config": {"output": "{{ steps.shape }}"}},
        ],
        "edges": [
            {"source": "start", "target": "double"},
            {"source": "double", "target": "shape"},
            {"source": "shape", "target": "end"},
        ],
    }


def sleepy_graph(seconds: float) -> dict[str, Any]:
    """A run that stays open for `seconds` (a durable timer), then returns its input."""
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "wait", "type": "delay", "config": {"seconds": seconds}},
            {
                "id": "work",
                "type": "python",
                "config": {"code": "return {'n': input['n']}"},
            },
            {"id": "end", "type": "end", "config": {"output": "{{ steps.work }}"}},
        ],
        "edges": [
            {"source": "start", "target": "wait"},
            {"source": "wait", "target": "work"},
            {"source": "work", "target": "end"},
        ],
    }


def failing_graph(message: str) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "boom", "type": "python", "config": {"code": f"raise ValueError({message!r})"}},
            {"id": "end", "type": "end"},
        ],
        "edges": [{"source": "start", "target": "boom"}, {"source": "boom", "target": "end"}],
    }
