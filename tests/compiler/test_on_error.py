"""Error edges and graph settings in the compiler: parsing (and the accepted spellings),
validation problems, and what they change in the output (and what they do not)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runloom.compiler import CompileOptions, compile_workflow, parse_graph
from runloom.compiler.model import ERROR_BRANCH, ERROR_EDGE_SOURCES

from .cases import CASES
from .cases_on_error import http_on_error, python_on_error
from .conftest import chain, graph
from .test_validate import assert_names_node, only, problems_of


def _compile(doc: dict[str, Any]) -> Any:
    return compile_workflow(doc, workflow_key="wf", version=1, options=CompileOptions())


def _error_edge(doc: dict[str, Any]) -> dict[str, Any]:
    (edge,) = [e for e in doc["edges"] if e.get("branch") == ERROR_BRANCH]
    return edge


# --- parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [{"branch": "error"}, {"on_error": True}, {"sourceHandle": "error"}],
    ids=["branch", "on_error", "sourceHandle"],
)
def test_every_spelling_of_an_error_edge_parses_to_branch_error(spelling: dict[str, Any]) -> None:
    doc = python_on_error()
    edge = _error_edge(doc)
    del edge["branch"]
    edge.update(spelling)
    parsed = parse_graph(doc)
    branches = {(e.source, e.target): e.branch for e in parsed.edges}
    assert branches[("charge", "apologise")] == "error"
    assert branches[("charge", "receipt")] is None
    # The same code whichever way the edge was written.
    assert _compile(doc).workflow_code == _compile(python_on_error()).workflow_code


def test_on_error_with_another_branch_is_an_invalid_edge() -> None:
    doc = python_on_error()
    _error_edge(doc).update({"branch": "true", "on_error": True})
    problem = only(problems_of(doc), "invalid_edge")
    assert 'write it as "branch": "error"' in problem.message


def test_on_error_must_be_a_boolean() -> None:
    doc = python_on_error()
    _error_edge(doc).update({"on_error": "yes"})
    assert "on_error must be true or false" in only(problems_of(doc), "invalid_edge").message


def test_on_error_false_is_a_plain_edge() -> None:
    doc = chain({"id": "t", "type": "transform", "config": {"output": 1}})
    doc["edges"][0]["on_error"] = False
    assert all(e.branch is None for e in parse_graph(doc).edges)


# --- validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "node",
    [
        {"id": "x", "type": "delay", "config": {"seconds": 1}},
        {"id": "x", "type": "condition", "config": {"expression": "true"}},
        {"id": "x", "type": "wait_for_signal", "config": {"signal": "go", "timeout_s": 5}},
    ],
    ids=lambda n: n["type"],
)
def test_error_edges_only_leave_nodes_that_can_fail(node: dict[str, Any]) -> None:
    normal = "true" if node["type"] == "condition" else None
    doc = graph(
        [
            {"id": "start", "type": "start"},
            node,
            {"id": "h", "type": "transform", "config": {"output": 1}},
            {"id": "end", "type": "end"},
        ],
        [("start", "x"), ("x", "end", normal), ("x", "h", "error"), ("h", "end")],
    )
    problem = only(problems_of(doc), "error_edge_not_allowed")
    assert_names_node(problem, "x")
    assert problem.edge_index == 2
    assert f"a {node['type']} node cannot fail on its own" in problem.message
    assert all(kind in problem.message for kind in ERROR_EDGE_SOURCES)


def test_start_has_no_error_edge() -> None:
    doc = chain()
    doc["edges"].append({"source": "start", "target": "end", "branch": "error"})
    assert_names_node(only(problems_of(doc), "error_edge_not_allowed"), "start")


def test_at_most_one_error_edge_per_node() -> None:
    doc = python_on_error()
    doc["nodes"].append({"id": "page", "type": "transform", "config": {"output": 1}})
    doc["edges"] += [
        {"source": "charge", "target": "page", "branch": "error"},
        {"source": "page", "target": "end"},
    ]
    problem = only(problems_of(doc), "multiple_error_edges")
    assert_names_node(problem, "charge")
    assert problem.edge_index == 5
    assert "the first is edge #2" in problem.message


def test_a_repeated_error_edge_is_reported_once_as_a_duplicate() -> None:
    doc = python_on_error()
    doc["edges"].append(dict(_error_edge(doc)))
    problems = problems_of(doc)
    assert only(problems, "duplicate_edge").edge_index == 5
    assert not [p for p in problems if p.code == "multiple_error_edges"]


def test_another_branch_on_a_node_that_can_fail_hints_at_error() -> None:
    doc = python_on_error()
    _error_edge(doc)["branch"] = "failure"
    problem = only(problems_of(doc), "bad_branch")
    assert_names_node(problem, "charge")
    assert 'use "error" for the error path' in problem.message


@pytest.mark.parametrize("case", ["python_on_error", "http_on_error", "for_each_on_error"])
def test_error_paths_count_for_reachability(case: str) -> None:
    # The handler is reached only through the error edge: neither unreachable nor a
    # dead end, and the graph compiles in strict mode.
    compiled = _compile(CASES[case])
    assert compiled.warnings == ()


def test_a_handler_that_leads_nowhere_is_a_dead_end() -> None:
    doc = http_on_error()
    doc["edges"] = [e for e in doc["edges"] if e["source"] != "fallback"]
    assert_names_node(only(problems_of(doc), "dead_end"), "fallback")


def test_child_workflow_and_transform_take_error_edges() -> None:
    for node in (
        {"id": "x", "type": "child_workflow", "config": {"workflow": "other"}},
        {"id": "x", "type": "transform", "config": {"output": "{{ input.a.b }}"}},
    ):
        doc = graph(
            [{"id": "start", "type": "start"}, node, {"id": "end", "type": "end"}],
            [("start", "x"), ("x", "end"), ("x", "end", "error")],
        )
        options = CompileOptions(child_workflow_types={"other": "other@v1"})
        compile_workflow(doc, workflow_key="wf", version=1, options=options)


# --- what error edges change in the code -----------------------------------------------


def test_graphs_without_error_edges_give_python_nodes_no_error_argument() -> None:
    plain = _compile(CASES["python"])
    assert "self._graph.error()" not in plain.workflow_code
    assert '{"input": self._graph.input, "steps": self._graph.steps},' in plain.workflow_code


def test_graphs_with_error_edges_pass_error_to_every_python_node() -> None:
    code = _compile(python_on_error()).workflow_code
    assert code.count('"error": self._graph.error(),') == 2  # charge and apologise


def test_secret_templates_on_an_error_path_are_sent_the_error() -> None:
    doc = http_on_error()
    doc["nodes"][2]["config"]["output"] = {"key": "{{ secrets.K }}", "why": "{{ error.message }}"}
    options = CompileOptions(secret_names=frozenset({"K"}))
    code = compile_workflow(doc, workflow_key="wf", version=1, options=options).workflow_code
    assert 'self._graph.narrow_scope(["error"])' in code


# --- settings --------------------------------------------------------------------------


def test_execution_timeout_is_recorded_with_the_version_not_in_the_code() -> None:
    doc = CASES["delay"]
    timed = {**doc, "settings": {"execution_timeout_s": 2}}
    plain, with_timeout = _compile(doc), _compile(timed)
    assert with_timeout.workflow_code == plain.workflow_code
    assert json.loads(with_timeout.compiler_options_json)["settings"] == {
        "execution_timeout_s": 2.0
    }
    # A graph that sets nothing keeps the document it always had (no needless version).
    assert "settings" not in json.loads(plain.compiler_options_json)
    for empty in ({}, None, {"execution_timeout_s": None}):
        same = _compile({**doc, "settings": empty})
        assert same.compiler_options_json == plain.compiler_options_json


@pytest.mark.parametrize(
    ("settings", "code", "text"),
    [
        ({"execution_timeout_s": 0}, "out_of_range", "settings.execution_timeout_s"),
        ({"execution_timeout_s": 31_536_001}, "out_of_range", "less than or equal to 31536000"),
        ({"execution_timeout_s": "soon"}, "invalid_field", "settings.execution_timeout_s"),
        ({"execution_timeout": 5}, "unknown_field", "settings.execution_timeout"),
        ("fast", "invalid_field", "graph settings:"),
    ],
)
def test_bad_settings_are_problems(settings: Any, code: str, text: str) -> None:
    doc = {**chain(), "settings": settings}
    problem = only(problems_of(doc), code)
    assert text in problem.message
    assert problem.node_id is None


def test_settings_bounds_are_inclusive() -> None:
    for seconds in (1, 31_536_000):
        _compile({**chain(), "settings": {"execution_timeout_s": seconds}})
