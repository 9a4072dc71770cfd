"""Small graphs, one per node type, shared by golden, property and unit tests."""

from __future__ import annotations

from typing import Any

from .cases_on_error import ON_ERROR_CASES
from .conftest import chain, graph


def _http() -> dict[str, Any]:
    return chain(
        {
            "id": "fetch_order",
            "type": "http_request",
            "label": "Fetch the order",
            "config": {
                "method": "POST",
                "url": "https://shop.example/orders/{{ input.order_id }}",
                "headers": {"authorization": "Bearer {{ input.token }}"},
                "body": {"expand": ["lines"], "note": "from runloom"},
                "timeout_s": 10,
            },
            "retry": {"maximum_attempts": 5, "initial_interval_s": 2, "maximum_interval_s": 30},
            "timeout_s": 30,
            "schedule_to_close_s": 300,
        },
        end_output="{{ steps.fetch_order.body }}",
    )


def _condition() -> dict[str, Any]:
    return graph(
        [
            {"id": "start", "type": "start"},
            {"id": "is_big", "type": "condition", "config": {"expression": "input.total > 100"}},
            {"id": "big", "type": "transform", "config": {"output": "big"}},
            {"id": "small", "type": "transform", "config": {"output": "small"}},
            {"id": "end", "type": "end", "config": {"output": "{{ steps.big or steps.small }}"}},
        ],
        [
            ("start", "is_big"),
            ("is_big", "big", "true"),
            ("is_big", "small", "false"),
            ("big", "end"),
            ("small", "end"),
        ],
    )


def _wait_with_timeout_branch() -> dict[str, Any]:
    return graph(
        [
            {"id": "start", "type": "start"},
            {
                "id": "approval",
                "type": "wait_for_signal",
                "config": {"signal": "approve", "timeout_s": 86400},
            },
            {"id": "reminder", "type": "transform", "config": {"output": "timed out"}},
            {
                "id": "end",
                "type": "end",
                "config": {"output": "{{ steps.approval or steps.reminder }}"},
            },
        ],
        [
            ("start", "approval"),
            ("approval", "end"),
            ("approval", "reminder", "timeout"),
            ("reminder", "end"),
        ],
    )


def _parallel() -> dict[str, Any]:
    return graph(
        [
            {"id": "start", "type": "start"},
            {"id": "left", "type": "transform", "config": {"output": "{{ input.a }}"}},
            {"id": "right", "type": "transform", "config": {"output": "{{ input.b }}"}},
            {
                "id": "join",
                "type": "transform",
                "config": {"output": {"sum": "{{ steps.left + steps.right }}"}},
            },
            {"id": "end", "type": "end"},
        ],
        [
            ("start", "left"),
            ("start", "right"),
            ("left", "join"),
            ("right", "join"),
            ("join", "end"),
        ],
    )


def _http_secret() -> dict[str, Any]:
    return graph(
        [
            {"id": "start", "type": "start"},
            {
                "id": "login",
                "type": "transform",
                "config": {"output": {"user": "{{ input.user }}"}},
            },
            {
                "id": "fetch_order",
                "type": "http_request",
                "config": {
                    "method": "POST",
                    "url": "https://shop.example/orders/{{ input.order_id }}",
                    "headers": {
                        "authorization": "Bearer {{ secrets.SHOP_TOKEN }}",
                        "x-user": "{{ steps.login.user }}",
                    },
                    "body": {"key": "{{ secrets['SHOP_KEY'] }}"},
                },
            },
            {"id": "end", "type": "end", "config": {"output": "{{ steps.fetch_order.body }}"}},
        ],
        [("start", "login"), ("login", "fetch_order"), ("fetch_order", "end")],
    )


CASES: dict[str, dict[str, Any]] = {
    "start_end": chain(end_output={"echo": "{{ input }}"}),
    "http_request": _http(),
    "transform": chain(
        {
            "id": "shape",
            "type": "transform",
            "config": {
                "output": {"id": "{{ input.id }}", "greeting": "Hello {{ input.name }}!", "n": 3}
            },
        },
        end_output="{{ steps.shape }}",
    ),
    "condition": _condition(),
    "delay": chain({"id": "cool_off", "type": "delay", "config": {"seconds": 90}}),
    "wait_for_signal": _wait_with_timeout_branch(),
    "wait_for_signal_required": chain(
        {
            "id": "approval",
            "type": "wait_for_signal",
            "config": {"signal": "approve", "timeout_s": 3600},
        }
    ),
    "python": chain(
        {
            "id": "score",
            "type": "python",
            "config": {
                "code": "lines = input['lines']\nreturn {'score': sum(l['qty'] for l in lines)}"
            },
            "retry": {"maximum_attempts": 2, "non_retryable_error_types": ["KeyError"]},
        },
        end_output="{{ steps.score.score }}",
    ),
    "python_local": chain(
        {
            "id": "quick",
            "type": "python",
            "local": True,
            "timeout_s": 5,
            "config": {"code": "return len(input)"},
        }
    ),
    "for_each": chain(
        {
            "id": "notify_each",
            "type": "for_each",
            "config": {
                "items": "input.customers",
                "concurrency": 4,
                "step": {
                    "type": "http_request",
                    "config": {
                        "method": "POST",
                        "url": "https://mail.example/send",
                        "body": {"to": "{{ item.email }}"},
                    },
                },
            },
        },
    ),
    "for_each_python": chain(
        {
            "id": "square",
            "type": "for_each",
            "config": {
                "items": "input.xs",
                "concurrency": 2,
                "step": {"type": "python", "config": {"code": "return item * item"}},
            },
        },
    ),
    "child_workflow": chain(
        {
            "id": "invoice",
            "type": "child_workflow",
            "config": {"workflow": "make-invoice", "input": {"order": "{{ input.order_id }}"}},
        }
    ),
    "parallel_join": _parallel(),
    "http_secret": _http_secret(),
    "transform_secret": chain(
        {
            "id": "sign",
            "type": "transform",
            "config": {"output": {"signature": "{{ input.id }}:{{ secrets.SIGNING_KEY }}"}},
        },
        end_output="{{ steps.sign }}",
    ),
}
CASES.update(ON_ERROR_CASES)
