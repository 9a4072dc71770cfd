"""A template or expression that reads `steps.<id>` of no node is a problem on its node."""

from __future__ import annotations

import pytest

from runloom.compiler import CompileOptions, GraphInvalid, compile_workflow

from .conftest import chain


def _problems(doc: dict[str, object]) -> list[tuple[str, str | None, str]]:
    with pytest.raises(GraphInvalid) as caught:
        compile_workflow(doc, workflow_key="wf", version=1, options=CompileOptions())
    return [(p.code, p.node_id, p.message) for p in caught.value.problems]


def test_a_template_reading_a_step_that_does_not_exist_is_a_problem_on_its_node() -> None:
    doc = chain(
        {"id": "fetch", "type": "transform", "config": {"output": {"a": 1}}},
        {"id": "shape", "type": "transform", "config": {"output": "{{ steps.fetc.a }}"}},
    )
    [(code, node_id, message)] = _problems(doc)
    assert (code, node_id) == ("unknown_step", "shape")
    assert "steps.fetc" in message and "config.output" in message
    assert "steps.fetch" in message  # the close match is suggested


def test_an_expression_and_the_end_output_are_checked_too() -> None:
    doc = chain(
        {"id": "check", "type": "condition", "config": {"expression": "steps.nope.ok"}},
        end_output={"x": "{{ steps.gone }}"},
    )
    doc["edges"] = [
        {"source": "start", "target": "check"},
        {"source": "check", "target": "end", "branch": "true"},
        {"source": "check", "target": "end", "branch": "false"},
    ]
    found = {(code, node_id) for code, node_id, _ in _problems(doc)}
    assert found == {("unknown_step", "check"), ("unknown_step", "end")}


def test_reading_steps_that_exist_compiles() -> None:
    doc = chain(
        {"id": "fetch", "type": "transform", "config": {"output": {"a": 1}}},
        {"id": "shape", "type": "transform", "config": {"output": "{{ steps.fetch.a }}"}},
        end_output="{{ steps['shape'] }} {{ steps.get(input.which) }}",
    )
    assert compile_workflow(doc, workflow_key="wf", version=1).workflow_type == "wf@v1"
