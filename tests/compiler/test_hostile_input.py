"""Graphs written to hurt the compiler: each is a problem on its node, found in moments,
never an exception out of the compiler nor a computation that does not end."""

from __future__ import annotations

import time
from typing import Any

import pytest

from runloom.compiler import GraphInvalid, Problem, compile_workflow
from runloom.compiler.model import MAX_GRAPH_DEPTH

from .conftest import chain


def problems_of(doc: Any) -> tuple[Problem, ...]:
    started = time.monotonic()
    with pytest.raises(GraphInvalid) as caught:
        compile_workflow(doc, workflow_key="wf", version=1)
    assert time.monotonic() - started < 5
    return caught.value.problems


def transform(output: Any) -> dict[str, Any]:
    return {"id": "evil", "type": "transform", "config": {"output": output}}


def python(code: str) -> dict[str, Any]:
    return {"id": "evil", "type": "python", "config": {"code": code}}


@pytest.mark.parametrize(
    ("template", "says"),
    [
        ("{{ 3**(10**9) }}", "4096 bits"),
        ("{{ 'x'*10**9 }}", "1048576 characters"),
        ("total: {{ [0] * 10**9 }}", "1048576 characters or items"),
        ("{{ '%0999999999d' % 1 }}", "widths and precisions"),
    ],
)
def test_constant_arithmetic_over_the_limits(template: str, says: str) -> None:
    (problem,) = problems_of(chain(transform({"value": template})))
    assert (problem.code, problem.node_id) == ("template_syntax", "evil")
    assert "config.output.value" in problem.message and says in problem.message


@pytest.mark.parametrize(
    "code",
    [
        "return " + "-" * 30_000 + "1",  # the parser's own stack: MemoryError
        "return " + "1+" * 5_000 + "1",  # the AST is deeper than Python's recursion limit
        "return x" + ".a" * 3_000,
        "return " + "not " * 15_000 + "x",
    ],
    ids=["unary", "binary", "attributes", "not"],
)
def test_python_nested_too_deeply(code: str) -> None:
    (problem,) = problems_of(chain(python(code)))
    assert (problem.code, problem.node_id) == ("python_too_deep", "evil")
    assert "nested too deeply to parse" in problem.message


def test_python_with_too_many_brackets_is_a_syntax_error() -> None:
    (problem,) = problems_of(chain(python("return " + "(" * 300 + "1" + ")" * 300)))
    assert problem.code == "python_syntax" and "parentheses" in problem.message


@pytest.mark.parametrize(
    "template",
    [
        "{{ " + "(" * 50_000 + "1" + ")" * 50_000 + " }}",
        "{% if a %}" * 3_000 + "{% endif %}" * 3_000,
        "{% for x in a %}" * 25 + "{% endfor %}" * 25,
    ],
    ids=["parentheses", "ifs", "loops"],
)
def test_templates_nested_too_deeply(template: str) -> None:
    (problem,) = problems_of(chain(transform(template)))
    assert (problem.code, problem.node_id) == ("template_syntax", "evil")
    assert "nested too deeply" in problem.message


def test_expression_nested_too_deeply() -> None:
    node = {"id": "evil", "type": "condition", "config": {"expression": "x" + ".a" * 4_000}}
    doc = chain(node)
    doc["edges"][-1]["branch"] = "true"
    problems = problems_of(doc)
    problem = next(p for p in problems if p.code == "expression_syntax")
    assert problem.node_id == "evil" and "nested too deeply" in problem.message


@pytest.mark.parametrize("kind", [list, dict])
def test_values_nested_too_deeply(kind: type) -> None:
    value: Any = "leaf"
    for _ in range(100_000):
        value = [value] if kind is list else {"a": value}
    (problem,) = problems_of(chain(transform(value)))
    assert problem.code == "graph_too_deep"
    assert f"more than {MAX_GRAPH_DEPTH} levels" in problem.message


def test_values_nested_to_the_limit_still_compile() -> None:
    value: Any = "{{ input }}"
    for _ in range(MAX_GRAPH_DEPTH - 6):  # graph, nodes, node, config, output, ...
        value = [value]
    compile_workflow(chain(transform(value)), workflow_key="wf", version=1)
