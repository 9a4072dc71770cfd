"""Secrets in graphs: references found in templates and code, problems on their nodes, and
code in which only names travel (values are resolved inside activities)."""

from __future__ import annotations

from typing import Any

import pytest

from runloom.compiler import CompileOptions, GraphInvalid, Problem, compile_workflow
from runloom.compiler.secret_refs import python_reads, template_reads

from .conftest import chain, graph


def _compile(doc: dict[str, Any], **options: Any) -> Any:
    return compile_workflow(doc, workflow_key="wf", version=1, options=CompileOptions(**options))


def problems_of(doc: dict[str, Any], **options: Any) -> tuple[Problem, ...]:
    with pytest.raises(GraphInvalid) as caught:
        _compile(doc, **options)
    return caught.value.problems


def http_node(headers: dict[str, str], *, node_id: str = "call", **config: Any) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "http_request",
        "config": {"url": "https://api.example/x", "headers": headers, **config},
    }


def transform(output: Any, node_id: str = "shape") -> dict[str, Any]:
    return {"id": node_id, "type": "transform", "config": {"output": output}}


def python(code: str, node_id: str = "code") -> dict[str, Any]:
    return {"id": node_id, "type": "python", "config": {"code": code}}


# --- finding references ---------------------------------------------------------------


def test_templates_name_secrets_by_attribute_or_constant_key() -> None:
    reads = template_reads(
        [("url", "https://x/{{ secrets.API_TOKEN }}?k={{ secrets['KEY_2'] | urlencode }}")]
    )
    assert reads.secrets == {"API_TOKEN", "KEY_2"}
    assert reads.misuses == ()
    assert reads.roots == frozenset()


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("{{ secrets[input.name] }}", "computed name"),
        ("{{ secrets }}", "on its own"),
        ("{{ secrets | length }}", "on its own"),
        ("{{ secrets.get('API_TOKEN') }}", "secrets.get, not a secret name"),
        ("{{ secrets.api_token }}", "secrets.api_token, not a secret name"),
        ("{% for k in secrets %}{{ k }}{% endfor %}", "on its own"),
        ("{% set secrets = 1 %}{{ secrets }}", "on its own"),
    ],
)
def test_any_other_use_of_secrets_is_a_misuse(text: str, said: str) -> None:
    reads = template_reads([("config.output", text)])
    assert reads.misuses and all(m.startswith("config.output ") for m in reads.misuses)
    assert any(said in m for m in reads.misuses), reads.misuses


def test_scope_roots_and_constant_step_ids_are_found() -> None:
    reads = template_reads(
        [
            ("a", "{{ input.id }} {{ steps.login.token }} {{ steps['other'].x }}"),
            ("b", {"nested": ["{{ item.name }}"]}),
        ]
    )
    assert reads.roots == {"input", "steps", "item"}
    assert reads.step_ids == {"login", "other"}


@pytest.mark.parametrize("text", ["{{ steps[input.key] }}", "{{ steps | length }}"])
def test_a_computed_step_reads_every_step(text: str) -> None:
    reads = template_reads([("a", text)])
    assert "steps" in reads.roots
    assert reads.step_ids is None


def test_python_reads_constant_names_and_any_use() -> None:
    names, uses = python_reads(
        "a = secrets['ONE']\nb = secrets.get('TWO', '')\nc = secrets[input['k']]\nreturn a"
    )
    assert names == {"ONE", "TWO"}
    assert uses
    assert python_reads("for k in secrets:\n    pass") == (frozenset(), True)
    assert python_reads("return input") == (frozenset(), False)


# --- problems ---------------------------------------------------------------------------


def test_a_missing_secret_is_a_problem_on_its_node() -> None:
    doc = chain(http_node({"Authorization": "Bearer {{ secrets.API_TOKEN }}"}))
    [problem] = problems_of(doc, secret_names=frozenset({"OTHER"}))
    assert problem.code == "unknown_secret"
    assert problem.node_id == "call"
    assert "'API_TOKEN'" in problem.message and "Secrets tab" in problem.message


def test_a_python_node_reading_a_missing_secret_is_a_problem() -> None:
    doc = chain(python("return secrets['DB_PASSWORD']"))
    [problem] = problems_of(doc, secret_names=frozenset())
    assert (problem.code, problem.node_id) == ("unknown_secret", "code")
    assert "'DB_PASSWORD'" in problem.message


def test_dynamic_access_in_python_is_allowed() -> None:
    compiled = _compile(chain(python("return len(secrets)")), secret_names=frozenset())
    assert "project_secrets.current()" in compiled.activities_code


def test_names_are_not_checked_without_a_list() -> None:
    compiled = _compile(chain(http_node({"k": "{{ secrets.ANY }}"})), secret_names=None)
    assert "secret_steps.http_request" in compiled.activities_code


def test_a_misused_secret_is_a_problem_with_the_right_spelling() -> None:
    doc = chain(transform({"x": "{{ secrets[input.which] }}"}))
    [problem] = problems_of(doc, secret_names=frozenset({"A"}))
    assert (problem.code, problem.node_id) == ("secret_reference", "shape")
    assert "config.output.x" in problem.message
    assert "secrets.NAME" in problem.message


@pytest.mark.parametrize(
    ("node", "where"),
    [
        ({"id": "end", "type": "end", "config": {"output": "{{ secrets.A }}"}}, "config.output"),
        (
            {"id": "check", "type": "condition", "config": {"expression": "secrets.A == 'x'"}},
            "config.expression",
        ),
        (
            {
                "id": "each",
                "type": "for_each",
                "config": {
                    "items": "secrets.A",
                    "step": {"type": "transform", "config": {"output": "{{ item }}"}},
                },
            },
            "config.items",
        ),
        (
            {
                "id": "child",
                "type": "child_workflow",
                "config": {"workflow": "other", "input": {"k": "{{ secrets.A }}"}},
            },
            "config.input.k",
        ),
    ],
)
def test_secrets_outside_an_activity_are_a_problem(node: dict[str, Any], where: str) -> None:
    if node["type"] == "end":
        doc = chain(end_output=node["config"]["output"])
    elif node["type"] == "condition":
        doc = graph(
            [{"id": "start", "type": "start"}, node, {"id": "end", "type": "end"}],
            [("start", "check"), ("check", "end", "true"), ("check", "end", "false")],
        )
    else:
        doc = chain(node)
    problems = problems_of(
        doc, secret_names=frozenset({"A"}), child_workflow_types={"other": "other@v1"}
    )
    [problem] = [p for p in problems if p.code == "secret_outside_activity"]
    assert problem.node_id == node["id"] and where in problem.message


# --- generated code ---------------------------------------------------------------------


def test_a_node_without_secrets_compiles_as_before_whatever_the_names() -> None:
    doc = chain(http_node({"k": "{{ input.k }}"}), transform("{{ steps.call }}"))
    without = _compile(doc)
    with_names = _compile(doc, secret_names=frozenset({"A", "B"}))
    assert without.workflow_code == with_names.workflow_code
    assert without.activities_code == with_names.activities_code
    assert without.compiler_options_json == with_names.compiler_options_json
    assert "narrow_scope" not in without.workflow_code


def test_an_http_node_with_a_secret_is_rendered_in_its_activity() -> None:
    doc = chain(
        transform({"id": 7}, node_id="first"),
        transform("unused", node_id="second"),
        http_node(
            {"Authorization": "Bearer {{ secrets.API_TOKEN }}"},
            body={"first": "{{ steps.first.id }}"},
        ),
    )
    compiled = _compile(doc, secret_names=frozenset({"API_TOKEN"}))
    # The workflow sends only what the templates read: `steps.first`, not `input`.
    assert 'self._graph.narrow_scope(["steps"], steps=["first"])' in compiled.workflow_code
    assert "templates.render({'method'" not in compiled.workflow_code
    assert "secrets.API_TOKEN" not in compiled.workflow_code
    assert "CALL_TEMPLATE = " in compiled.activities_code
    assert 'secret_steps.http_request(CALL_TEMPLATE, scope, secrets=["API_TOKEN"])' in (
        compiled.activities_code
    )
    assert "RUNLOOM_SECRET_<NAME>" in compiled.worker_code
    assert "'API_TOKEN'" in compiled.worker_code


def test_for_each_steps_with_secrets_send_item_and_index_only_when_read() -> None:
    doc = chain(
        {
            "id": "each",
            "type": "for_each",
            "config": {
                "items": "input.xs",
                "step": {
                    "type": "http_request",
                    "config": {
                        "url": "https://api.example/{{ item }}",
                        "headers": {"k": "{{ secrets.K }}"},
                    },
                },
            },
        },
        {
            "id": "sign",
            "type": "for_each",
            "config": {
                "items": "input.xs",
                "step": {"type": "transform", "config": {"output": "{{ index }}{{ secrets.K }}"}},
            },
        },
    )
    compiled = _compile(doc, secret_names=frozenset({"K"}))
    assert "scope = self._graph.narrow_scope(item=item)" in compiled.workflow_code
    assert "scope = self._graph.narrow_scope(index=index)" in compiled.workflow_code
    assert 'secret_steps.transform(SIGN_TEMPLATE, scope, secrets=["K"])' in (
        compiled.activities_code
    )
    assert compiled.activity_types == ("wf@v1.each", "wf@v1.sign")


def test_a_python_node_with_secrets_fetches_them_in_its_activity() -> None:
    compiled = _compile(chain(python("return secrets['K'][:2]")), secret_names=frozenset({"K"}))
    assert "secrets = await project_secrets.current()" in compiled.activities_code
    assert 'node_id="code", secrets=secrets' in compiled.activities_code
    plain = _compile(chain(python("return 1")))
    assert "project_secrets" not in plain.activities_code
