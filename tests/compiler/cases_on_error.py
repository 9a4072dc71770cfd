"""Graphs with error edges (branch "error"), shared by golden, unit and integration tests."""

from __future__ import annotations

from typing import Any

from .conftest import graph


def python_on_error(code: str = "raise ValueError('card declined')") -> dict[str, Any]:
    """start -> charge -> receipt -> end, and charge --error--> apologise -> end."""
    return graph(
        [
            {"id": "start", "type": "start"},
            {"id": "charge", "type": "python", "config": {"code": code}},
            {"id": "receipt", "type": "transform", "config": {"output": "paid"}},
            {
                "id": "apologise",
                "type": "python",
                "config": {"code": "return {'sorry': error['message'], 'from': error['node_id']}"},
            },
            {
                "id": "end",
                "type": "end",
                "config": {
                    "output": {
                        "result": "{{ steps.receipt or steps.apologise }}",
                        "error": "{{ error }}",
                    }
                },
            },
        ],
        [
            ("start", "charge"),
            ("charge", "receipt"),
            ("charge", "apologise", "error"),
            ("receipt", "end"),
            ("apologise", "end"),
        ],
    )


def http_on_error(url: str = "https://shop.example/orders/{{ input.order_id }}") -> dict[str, Any]:
    """start -> fetch -> end, and fetch --error--> fallback -> end."""
    return graph(
        [
            {"id": "start", "type": "start"},
            {
                "id": "fetch",
                "type": "http_request",
                "config": {"url": url},
                "retry": {"maximum_attempts": 2, "initial_interval_s": 0.1},
            },
            {
                "id": "fallback",
                "type": "transform",
                "config": {
                    "output": {
                        "failed": "{{ error.node_id }}",
                        "kind": "{{ error.type }}",
                        "why": "{{ error.message }}",
                    }
                },
            },
            {
                "id": "end",
                "type": "end",
                "config": {"output": "{{ steps.fallback or steps.fetch.body }}"},
            },
        ],
        [
            ("start", "fetch"),
            ("fetch", "end"),
            ("fetch", "fallback", "error"),
            ("fallback", "end"),
        ],
    )


def for_each_on_error() -> dict[str, Any]:
    """A for_each of python steps (which get `error` too) with its own error path."""
    return graph(
        [
            {"id": "start", "type": "start"},
            {
                "id": "invert",
                "type": "for_each",
                "config": {
                    "items": "input.xs",
                    "step": {"type": "python", "config": {"code": "return 1 / item"}},
                },
            },
            {"id": "zero", "type": "transform", "config": {"output": "{{ error.type }}"}},
            {"id": "end", "type": "end", "config": {"output": "{{ steps.invert or steps.zero }}"}},
        ],
        [
            ("start", "invert"),
            ("invert", "end"),
            ("invert", "zero", "error"),
            ("zero", "end"),
        ],
    )


ON_ERROR_CASES: dict[str, dict[str, Any]] = {
    "python_on_error": python_on_error(),
    "http_on_error": http_on_error(),
    "for_each_on_error": for_each_on_error(),
}
