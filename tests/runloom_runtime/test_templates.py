from __future__ import annotations

import pytest
from jinja2 import TemplateSyntaxError

from runloom_runtime.templates import (
    TemplateEvaluationError,
    check_expression,
    check_template,
    evaluate,
    render,
)

SCOPE = {
    "input": {"n": 2, "name": "Ada", "xs": [1, 2]},
    "steps": {"fetch": {"body": {"total": 150}}},
}


def test_single_expression_keeps_native_type() -> None:
    assert render("{{ input.xs }}", SCOPE) == [1, 2]
    assert render("  {{ input.n * 2 }} ", SCOPE) == 4
    assert render("{{ steps.fetch.body.total > 100 }}", SCOPE) is True


def test_mixed_text_renders_a_string() -> None:
    assert render("n={{ input.n }}", SCOPE) == "n=2"
    assert render("{{ input.n }}{{ input.n }}", SCOPE) == "22"


def test_render_walks_json_values_but_not_keys() -> None:
    value = {"{{ input.n }}": ["{{ input.name }}", 3, None, {"deep": "x{{ input.n }}"}]}
    assert render(value, SCOPE) == {"{{ input.n }}": ["Ada", 3, None, {"deep": "x2"}]}


def test_missing_values_are_none_and_chainable() -> None:
    assert render("{{ steps.skipped.body.total }}", SCOPE) is None
    assert render("{{ steps.skipped or 'fallback' }}", SCOPE) == "fallback"


def test_evaluate_expression() -> None:
    assert evaluate("input.xs | length", SCOPE) == 2
    assert evaluate("range(3)", SCOPE) == [0, 1, 2]


def test_sandbox_blocks_unsafe_access() -> None:
    # The sandbox hides dunder attributes (they come back undefined, i.e. None) and
    # refuses to call what it considers unsafe.
    assert evaluate("input.__class__", SCOPE) is None
    with pytest.raises(TemplateEvaluationError, match="SecurityError"):
        evaluate("''.__class__.__mro__[1].__subclasses__()", SCOPE)
    scope = {"input": {"xs": [1]}, "steps": {}}
    with pytest.raises(TemplateEvaluationError, match="SecurityError"):
        evaluate("input.xs.append(2)", scope)
    assert scope["input"] == {"xs": [1]}


def test_nondeterministic_helpers_are_removed() -> None:
    with pytest.raises(TemplateSyntaxError):
        check_expression("input.xs | random")
    with pytest.raises(TemplateEvaluationError):
        evaluate("lipsum()", SCOPE)


def test_evaluation_errors_say_what_failed() -> None:
    with pytest.raises(TemplateEvaluationError, match=r"'input.n / 0' failed: ZeroDivisionError"):
        evaluate("input.n / 0", SCOPE)


@pytest.mark.parametrize("bad", ["{{ input. }}", "{% if %}", "text {{ x"])
def test_check_template_rejects_bad_syntax(bad: str) -> None:
    with pytest.raises(TemplateSyntaxError):
        check_template(bad)


@pytest.mark.parametrize("bad", ["", "   ", "a >", "a b"])
def test_check_expression_rejects_bad_syntax(bad: str) -> None:
    with pytest.raises(TemplateSyntaxError):
        check_expression(bad)
