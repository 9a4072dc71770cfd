"""One test per validation rule: the problem has the right code and names its node/edge."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from runloom.compiler import (
    CompileOptions,
    GraphInvalid,
    Problem,
    compile_workflow,
    parse_graph,
    validate_graph,
)
from runloom.compiler.model import MAX_GRAPH_BYTES, MAX_PYTHON_BYTES

from .conftest import chain, graph


def problems_of(doc: Any, **options: Any) -> tuple[Problem, ...]:
    with pytest.raises(GraphInvalid) as caught:
        compile_workflow(doc, workflow_key="wf", version=1, options=CompileOptions(**options))
    return caught.value.problems


def only(problems: tuple[Problem, ...], code: str) -> Problem:
    matching = [p for p in problems if p.code == code]
    assert len(matching) == 1, problems
    return matching[0]


def assert_names_node(problem: Problem, node_id: str) -> None:
    assert problem.node_id == node_id
    assert repr(node_id) in problem.message


def test_unknown_node_type() -> None:
    problem = only(problems_of(chain({"id": "mystery", "type": "email"})), "unknown_node_type")
    assert_names_node(problem, "mystery")
    assert "email" in problem.message and "http_request" in problem.message


def test_missing_start() -> None:
    doc = graph([{"id": "end", "type": "end"}], [])
    assert only(problems_of(doc), "missing_start").message.startswith("the graph has no start node")


def test_repeated_start() -> None:
    doc = chain()
    doc["nodes"].append({"id": "start2", "type": "start"})
    doc["edges"].append({"source": "start2", "target": "end"})
    assert_names_node(only(problems_of(doc), "multiple_starts"), "start2")


def test_no_end() -> None:
    doc = graph([{"id": "start", "type": "start"}], [])
    assert "no end node" in only(problems_of(doc), "missing_end").message


def test_repeated_end() -> None:
    doc = chain()
    doc["nodes"].append({"id": "end2", "type": "end"})
    doc["edges"].append({"source": "start", "target": "end2"})
    assert_names_node(only(problems_of(doc), "multiple_ends"), "end2")


def test_duplicate_ids() -> None:
    doc = chain({"id": "twice", "type": "transform", "config": {"output": 1}})
    doc["nodes"].append({"id": "twice", "type": "transform", "config": {"output": 2}})
    assert_names_node(only(problems_of(doc), "duplicate_node_id"), "twice")


@pytest.mark.parametrize("role", ["source", "target"])
def test_edge_to_missing_node(role: str) -> None:
    doc = chain()
    doc["edges"].append({"source": "start", "target": "end", role: "ghost"})
    problem = only(problems_of(doc), f"edge_unknown_{role}")
    assert problem.edge_index == 1
    assert "'ghost'" in problem.message and "edge #1" in problem.message


def test_cycle() -> None:
    doc = chain(
        {"id": "a", "type": "transform", "config": {"output": 1}},
        {"id": "b", "type": "transform", "config": {"output": 2}},
    )
    doc["edges"].append({"source": "b", "target": "a"})
    problem = only(problems_of(doc), "cycle")
    assert "'a' -> 'b' -> 'a'" in problem.message
    assert problem.node_id == "a"


def test_unreachable_node() -> None:
    doc = chain()
    doc["nodes"].append({"id": "island", "type": "transform", "config": {"output": 1}})
    doc["edges"].append({"source": "island", "target": "end"})
    assert_names_node(only(problems_of(doc), "unreachable_node"), "island")


def _condition(branch: str | None) -> dict[str, Any]:
    return graph(
        [
            {"id": "start", "type": "start"},
            {"id": "check", "type": "condition", "config": {"expression": "input.ok"}},
            {"id": "end", "type": "end"},
        ],
        [("start", "check"), ("check", "end") if branch is None else ("check", "end", branch)],
    )


def test_condition_edge_without_branch() -> None:
    problem = only(problems_of(_condition(None)), "missing_branch")
    assert_names_node(problem, "check")
    assert problem.edge_index == 1


def test_condition_edge_with_bad_branch() -> None:
    problem = only(problems_of(_condition("yes")), "bad_branch")
    assert_names_node(problem, "check")
    assert "'yes'" in problem.message


def test_branch_on_plain_node() -> None:
    doc = chain()
    doc["edges"][0]["branch"] = "true"
    assert_names_node(only(problems_of(doc), "bad_branch"), "start")


def test_template_syntax_error() -> None:
    doc = chain(
        {"id": "shape", "type": "transform", "config": {"output": {"a": ["ok", "{{ input. }}"]}}}
    )
    problem = only(problems_of(doc), "template_syntax")
    assert_names_node(problem, "shape")
    assert "config.output.a[1]" in problem.message


def test_expression_syntax_error() -> None:
    doc = _condition("true")
    doc["nodes"][1]["config"]["expression"] = "input.total >"
    assert_names_node(only(problems_of(doc), "expression_syntax"), "check")


def test_invalid_python() -> None:
    doc = chain({"id": "calc", "type": "python", "config": {"code": "x = 1\nreturn x +"}})
    problem = only(problems_of(doc), "python_syntax")
    assert_names_node(problem, "calc")
    assert "line 2" in problem.message


def test_python_yield_is_rejected() -> None:
    doc = chain({"id": "gen", "type": "python", "config": {"code": "yield 1"}})
    assert_names_node(only(problems_of(doc), "python_syntax"), "gen")


def test_python_in_for_each_step_is_checked() -> None:
    step = {"type": "python", "config": {"code": "def"}}
    doc = chain({"id": "each", "type": "for_each", "config": {"items": "input.xs", "step": step}})
    problem = only(problems_of(doc), "python_syntax")
    assert_names_node(problem, "each")
    assert "config.step.config.code" in problem.message


@pytest.mark.parametrize(
    ("node", "field"),
    [
        (
            {
                "id": "each",
                "type": "for_each",
                "config": {
                    "items": "x",
                    "concurrency": 0,
                    "step": {"type": "transform", "config": {"output": 1}},
                },
            },
            "concurrency",
        ),
        (
            {
                "id": "each",
                "type": "for_each",
                "config": {
                    "items": "x",
                    "concurrency": 101,
                    "step": {"type": "transform", "config": {"output": 1}},
                },
            },
            "concurrency",
        ),
        ({"id": "nap", "type": "delay", "config": {"seconds": -1}}, "seconds"),
        ({"id": "nap", "type": "delay", "config": {"seconds": 366 * 24 * 3600}}, "seconds"),
        (
            {"id": "call", "type": "http_request", "config": {"url": "u"}, "timeout_s": 0},
            "timeout_s",
        ),
        (
            {
                "id": "call",
                "type": "http_request",
                "config": {"url": "u"},
                "retry": {"backoff_coefficient": 0.5},
            },
            "retry.backoff_coefficient",
        ),
    ],
)
def test_config_out_of_range(node: dict[str, Any], field: str) -> None:
    problem = only(problems_of(chain(node)), "out_of_range")
    assert_names_node(problem, node["id"])
    assert field in problem.message


def test_schedule_to_close_shorter_than_timeout() -> None:
    node = {
        "id": "call",
        "type": "http_request",
        "config": {"url": "u"},
        "timeout_s": 30,
        "schedule_to_close_s": 10,
    }
    assert_names_node(only(problems_of(chain(node)), "out_of_range"), "call")


def test_missing_required_config_and_typo() -> None:
    problems = problems_of(chain({"id": "call", "type": "http_request", "config": {"urll": "u"}}))
    assert_names_node(only(problems, "unknown_field"), "call")
    assert "config.urll" in only(problems, "unknown_field").message
    assert "config.url" in only(problems, "invalid_field").message


def test_graph_too_large() -> None:
    doc = chain({"id": "big", "type": "transform", "config": {"output": "x" * MAX_GRAPH_BYTES}})
    assert "256 KiB" in only(problems_of(doc), "graph_too_large").message


def test_too_many_nodes() -> None:
    nodes = [{"id": f"n{i}", "type": "transform", "config": {"output": i}} for i in range(200)]
    assert "limit is 200" in only(problems_of(chain(*nodes)), "too_many_nodes").message


def test_too_many_edges() -> None:
    doc = chain()
    doc["edges"] = doc["edges"] * 501
    assert "limit is 500" in only(problems_of(doc), "too_many_edges").message


def test_python_too_large() -> None:
    code = "return 1\n" + "#" * MAX_PYTHON_BYTES
    doc = chain({"id": "calc", "type": "python", "config": {"code": code}})
    assert_names_node(only(problems_of(doc), "python_too_large"), "calc")


def test_dead_end_is_a_warning_unless_strict() -> None:
    doc = chain({"id": "a", "type": "transform", "config": {"output": 1}})
    doc["nodes"].append({"id": "dangling", "type": "transform", "config": {"output": 2}})
    doc["edges"].append({"source": "a", "target": "dangling"})
    assert_names_node(only(problems_of(doc, strict_mode=True), "dead_end"), "dangling")
    compiled = compile_workflow(
        doc, workflow_key="wf", version=1, options=CompileOptions(strict_mode=False)
    )
    assert [w.node_id for w in compiled.warnings] == ["dangling"]


def test_unknown_child_workflow() -> None:
    doc = chain({"id": "sub", "type": "child_workflow", "config": {"workflow": "nope"}})
    problem = only(
        problems_of(doc, child_workflow_types={"billing": "billing@v2"}), "unknown_child_workflow"
    )
    assert_names_node(problem, "sub")
    assert "'billing'" in problem.message
    only(problems_of(doc, strict_mode=True), "unknown_child_workflow")
    # Not strict and nothing known: the key itself is used as the child's type.
    compiled = compile_workflow(
        doc, workflow_key="wf", version=1, options=CompileOptions(strict_mode=False)
    )
    assert '"nope"' in compiled.workflow_code


def test_timeout_branch_without_timeout() -> None:
    doc = graph(
        [
            {"id": "start", "type": "start"},
            {"id": "wait", "type": "wait_for_signal", "config": {"signal": "go"}},
            {"id": "end", "type": "end"},
        ],
        [("start", "wait"), ("wait", "end"), ("wait", "end", "timeout")],
    )
    assert_names_node(only(problems_of(doc), "timeout_branch_without_timeout"), "wait")


def test_start_with_incoming_and_end_with_outgoing() -> None:
    doc = chain({"id": "a", "type": "transform", "config": {"output": 1}})
    doc["edges"].append({"source": "end", "target": "start"})
    problems = problems_of(doc)
    assert only(problems, "start_has_incoming").node_id == "start"
    assert only(problems, "end_has_outgoing").node_id == "end"


def test_duplicate_edge() -> None:
    doc = chain()
    doc["edges"].append(dict(doc["edges"][0]))
    assert only(problems_of(doc), "duplicate_edge").edge_index == 1


@pytest.mark.parametrize("key", ["", "Orders", "-x", "a b", "a@v1", "x" * 101])
def test_invalid_workflow_key(key: str) -> None:
    with pytest.raises(GraphInvalid) as caught:
        compile_workflow(chain(), workflow_key=key, version=1)
    assert only(caught.value.problems, "invalid_workflow_key")


def test_invalid_version() -> None:
    with pytest.raises(GraphInvalid) as caught:
        compile_workflow(chain(), workflow_key="wf", version=0)
    assert only(caught.value.problems, "invalid_version")


def test_every_problem_reported_at_once() -> None:
    doc = chain(
        {"id": "calc", "type": "python", "config": {"code": "return ("}},
        {"id": "mystery", "type": "teleport"},
        {"id": "shape", "type": "transform", "config": {"output": "{{ x"}},
    )
    doc["edges"].append({"source": "shape", "target": "ghost"})
    codes = {p.code for p in problems_of(doc)}
    assert {"python_syntax", "unknown_node_type", "template_syntax", "edge_unknown_target"} <= codes


def test_parse_and_validate_graph_public_api() -> None:
    doc = _condition("true")
    parsed = parse_graph(doc)
    assert validate_graph(parsed) == ()
    bad = copy.deepcopy(doc)
    bad["edges"][1]["branch"] = None
    assert [p.code for p in validate_graph(parse_graph(bad))] == ["missing_branch"]
    with pytest.raises(GraphInvalid):
        parse_graph({"nodes": [{"id": "x", "type": "nope"}]})
