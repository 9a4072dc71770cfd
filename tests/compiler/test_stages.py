"""Unit tests of the parse, name, render and check stages on their own."""

from __future__ import annotations

import ast
from typing import Any

import pytest

from runloom.compiler import GraphInvalid, parse_graph
from runloom.compiler.check import check_module
from runloom.compiler.errors import CompilerError, GeneratedCodeInvalid
from runloom.compiler.identifiers import assign_names, class_name, slug
from runloom.compiler.model import ForEachNode, HttpRequestNode, PythonNode, StartNode
from runloom.compiler.render import comment_text, literal, topological_order

from .conftest import chain, graph

# --- parse ----------------------------------------------------------------------------


def test_parse_applies_per_type_defaults() -> None:
    parsed = parse_graph(
        chain(
            {"id": "call", "type": "http_request", "config": {"url": "u"}, "position": {"x": 1}},
            {"id": "calc", "type": "python", "config": {"code": "return 1"}},
        )
    )
    start, call, calc = parsed.nodes[:3]
    assert isinstance(start, StartNode)
    assert isinstance(call, HttpRequestNode)
    assert (call.config.method, call.config.timeout_s, call.config.fail_on_status) == (
        "GET",
        30.0,
        True,
    )
    assert (call.timeout_s, call.retry, call.local) == (60.0, None, False)
    assert isinstance(calc, PythonNode)


def test_parse_for_each_step_is_a_discriminated_union() -> None:
    step = {"type": "python", "config": {"code": "return item"}}
    parsed = parse_graph(
        chain({"id": "each", "type": "for_each", "config": {"items": "input.xs", "step": step}})
    )
    node = parsed.nodes[1]
    assert isinstance(node, ForEachNode)
    assert node.config.concurrency == 5
    assert node.config.step.type == "python"
    with pytest.raises(GraphInvalid) as caught:
        bad_step = {"type": "delay", "config": {"seconds": 1}}
        parse_graph(
            chain({"id": "each", "type": "for_each", "config": {"items": "x", "step": bad_step}})
        )
    assert caught.value.problems[0].node_id == "each"


def test_parse_ignores_canvas_keys_but_rejects_unknown_config_keys() -> None:
    parse_graph(chain({"id": "t", "type": "transform", "config": {"output": 1}, "selected": True}))
    with pytest.raises(GraphInvalid) as caught:
        parse_graph(chain({"id": "t", "type": "transform", "config": {"output": 1, "outptu": 2}}))
    assert [p.code for p in caught.value.problems] == ["unknown_field"]


@pytest.mark.parametrize(
    "doc", [[], {"nodes": "x"}, {"nodes": [], "edges": {}}, {"nodes": [float("nan")]}]
)
def test_parse_rejects_documents_that_are_not_graphs(doc: Any) -> None:
    with pytest.raises(GraphInvalid) as caught:
        parse_graph(doc)
    assert caught.value.problems[0].code == "invalid_graph"
    assert isinstance(caught.value, CompilerError)


# --- name -----------------------------------------------------------------------------


def test_slug_and_class_name() -> None:
    assert slug("Fetch Order!") == "fetch_order"
    assert slug("ü__'\"") == ""
    assert class_name("order-sync", 2) == "OrderSyncV2Workflow"
    assert class_name("9lives", 1) == "W9livesV1Workflow"


def test_names_are_identifiers_unique_and_stable() -> None:
    doc = graph(
        [
            {"id": "start", "type": "start"},
            {"id": "a b", "type": "transform", "config": {"output": 1}},
            {"id": "a-b", "type": "transform", "config": {"output": 1}},
            {"id": "class", "type": "transform", "config": {"output": 1}},
            {"id": "9", "type": "transform", "config": {"output": 1}},
            {"id": "'); import os #", "type": "transform", "config": {"output": 1}},
            {"id": "ü", "type": "transform", "config": {"output": 1}},
            {"id": "end", "type": "end"},
        ],
        [],
    )
    parsed = parse_graph(doc)
    names = assign_names(parsed, workflow_key="wf", version=1)
    assert list(names.methods.values()) == [
        "_node_start",
        "_node_a_b",
        "_node_a_b_2",
        "_node_class",
        "_node_n9",
        "_node_import_os",
        "_node_node6",
        "_node_end",
    ]
    assert all(name.isidentifier() for name in names.all())
    assert len(set(names.all())) == len(names.all())
    assert names == assign_names(parsed, workflow_key="wf", version=1)


# --- render ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        1.5,
        "'''\"\"\"\\\n",
        {"k'": ["a", {"b": None}]},
        {"long": "x" * 200, "lines": "first line\nsecond line\n" * 10},
        [("a", None), ("b", "true")],
    ],
)
def test_literal_round_trips(value: Any) -> None:
    text = literal(value, indent=8)
    assert ast.literal_eval(text) == value


def test_literal_refuses_non_json() -> None:
    with pytest.raises(TypeError):
        literal(float("inf"))
    with pytest.raises(TypeError):
        literal(object())


def test_comment_text_is_one_line_without_double_quotes() -> None:
    text = comment_text('a"""\nb\u2028c')
    assert "\n" not in text and "\u2028" not in text
    assert '"""' not in text
    assert ast.literal_eval('"""' + text + '"""')


def test_topological_order_is_stable() -> None:
    doc = graph(
        [
            {"id": "end", "type": "end"},
            {"id": "b", "type": "transform", "config": {"output": 1}},
            {"id": "a", "type": "transform", "config": {"output": 1}},
            {"id": "start", "type": "start"},
        ],
        [("start", "a"), ("start", "b"), ("a", "end"), ("b", "end")],
    )
    assert [n.id for n in topological_order(parse_graph(doc))] == ["start", "b", "a", "end"]


# --- check ----------------------------------------------------------------------------


def test_check_accepts_valid_and_reports_invalid_code() -> None:
    assert isinstance(check_module("x = 1\n", filename="w.py"), ast.Module)
    with pytest.raises(GeneratedCodeInvalid, match=r"generated w\.py does not compile"):
        check_module("def (:\n", filename="w.py")
    with pytest.raises(GeneratedCodeInvalid):
        check_module("return 1\n", filename="w.py")
