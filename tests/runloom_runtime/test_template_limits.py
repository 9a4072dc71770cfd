"""Templates cannot ask for huge values: each operation that could build one is refused
first, with the limit named, in a fraction of the time building it would take."""

from __future__ import annotations

import time

import pytest
from jinja2 import TemplateSyntaxError

from runloom_runtime.template_limits import MAX_INT_BITS, MAX_RANGE, MAX_SIZE, size_of
from runloom_runtime.templates import (
    TemplateEvaluationError,
    check_expression,
    check_template,
    evaluate,
    render,
)

SCOPE = {
    "input": {
        "n": 3,
        "big": 10**9,
        "text": "x" * 600_000,
        "lt": "<" * 300_000,
        "s": "ab",
        "xs": [1, 2],
    },
    "steps": {},
}

HUGE = [
    # (expression, what the error names)
    ("3 ** (10 ** 9)", f"{MAX_INT_BITS} bits"),
    ("input.n ** input.big", f"{MAX_INT_BITS} bits"),
    ("(2 ** 4000) ** 3", f"{MAX_INT_BITS} bits"),
    ("(2 ** 4096) * (2 ** 4096) * (2 ** 4096) * (2 ** 4096) * (2 ** 4096)", "bits"),
    ("'x' * 10 ** 9", f"{MAX_SIZE} characters"),
    ("10 ** 9 * 'x'", f"{MAX_SIZE} characters"),
    ("[0] * input.big", f"{MAX_SIZE} characters or items"),
    ("[input.text] * 3", "repeating a list of 1 items 3 times"),
    ("(input.text + input.text) + (input.text + input.text)", "string of 1200000"),
    ("(input.text ~ input.text) ~ (input.text ~ input.text)", "~ concatenation"),
    ("'%0999999999d' % 1", "the % format's widths"),
    ("'%.999999999f' % 1.0", "the % format's widths"),
    ("'%*d' % (input.big, 1)", "the % format's widths"),
    ("'%0999999999d' | format(1)", "the % format's widths"),
    ("'{:>999999999}'.format(1)", "the format's widths"),
    ("'{:.999999999f}'.format(1.0)", "the format's widths"),
    ("'{0:{1}}'.format(1, input.big)", "the format's widths"),
    ("'{x:>999999999}'.format_map({'x': 1})", "the format's widths"),
    ("'x'.ljust(input.big)", "str.ljust"),
    ("'x'.zfill(input.big)", "str.zfill"),
    ("'a\tb'.expandtabs(input.big)", "str.expandtabs"),
    ("'aaaa'.replace('', input.text)", "str.replace"),
    ("input.text.join(input.xs * 3)", "str.join"),
    ("range(10 ** 6)", f"at most {MAX_RANGE}"),
    ("range(100000) | join(input.s * 10)", "str.join"),
    ("range(100000) | map('string') | join(input.s * 10)", "str.join"),
    ("'x' | center(input.big)", "center filter"),
    ("'a' | indent(input.big)", "indent filter"),
    ("[1] | batch(input.big, 0) | list", "batch filter"),
    ("[1, 2] | slice(input.big) | list", "slice filter"),
    ("input.text | replace('x', 'yyy')", "replace filter"),
    ("input.text | wordwrap(1, true, 'yy')", "wordwrap filter"),
    ("{'a': 1} | tojson(input.big)", "tojson filter"),
    # Each escaping grows text by a bounded factor: checked on what it returns.
    ("((input.lt | e) ~ '') | e", "e filter"),
]


@pytest.mark.parametrize(("expression", "limit"), HUGE, ids=[e for e, _ in HUGE])
def test_huge_results_are_refused_before_they_are_built(expression: str, limit: str) -> None:
    started = time.monotonic()
    with pytest.raises(TemplateEvaluationError, match="TemplateLimitError") as refused:
        evaluate(expression, SCOPE)
    assert limit in str(refused.value)
    # Building any of these takes seconds to minutes, or more memory than there is.
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize(
    "template",
    [
        "x{{ 'x' * 10 ** 9 }}",
        "{% set s = input.s * 10 ** 9 %}{{ s }}",
        "{{ input.n ** (10 ** 9) }}",
    ],
)
def test_mixed_templates_are_bounded_too(template: str) -> None:
    with pytest.raises(TemplateEvaluationError, match="TemplateLimitError"):
        render(template, SCOPE)


def test_doubling_in_a_loop_stops_at_the_limit() -> None:
    template = (
        "{% set ns = namespace(s='x') %}{% for i in range(64) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}"
    )
    with pytest.raises(TemplateEvaluationError, match=r"~ concatenation would add \d+"):
        render(template, SCOPE)


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("2 ** 4096", 2**4096),
        ("(2 ** 4000) * (2 ** 4000)", 2**8000),
        ("input.n * 2", 6),
        ("'ab' * 3", "ababab"),
        ("[1, 2] * 2", [1, 2, 1, 2]),
        ("input.s + 'c'", "abc"),
        ("(input.text ~ '!') | length", 600_001),
        ("(input.text + input.text) | length", 1_200_000),
        ("'%5d|%-3s|%.2f' % (3, 'a', 1.5)", "    3|a  |1.50"),
        ("'{:>5}{:.1f}'.format(1, 2.25)", "    12.2"),
        ("'x'.ljust(4, '-')", "x---"),
        ("range(100000) | length", 100_000),
        ("['a', 'b'] | join(', ')", "a, b"),
        ("'a<b' | e", "a&lt;b"),
        ("{'a': 1} | tojson", '{"a": 1}'),
        ("'ab' | center(6)", "  ab  "),
        ("[1, 2, 3] | batch(2, 0) | list", [[1, 2], [3, 0]]),
    ],
)
def test_ordinary_values_are_unchanged(expression: str, value: object) -> None:
    assert evaluate(expression, SCOPE) == value


def test_size_counts_what_a_value_stands_for() -> None:
    text = "x" * 1000
    assert size_of(text) == 1000
    assert size_of([text, text]) == 2 + 2000
    assert size_of({"k": [1, 2]}) == 1 + 1 + 2 + 2
    # Shared parts count as often as they appear, and counting stops past the budget.
    nested: list[object] = ["y" * 100]
    for _ in range(60):
        nested = [nested, nested]
    assert MAX_SIZE < size_of(nested) < 2 * MAX_SIZE + 200


@pytest.mark.parametrize(
    "source",
    [
        "{{ 3 ** (10 ** 9) }}",
        "text {{ 'x' * 10 ** 9 }}",
        "{% set x = [1, 2] * 10 ** 8 %}",
        "{{ 'a' ~ ('b' * 10 ** 8) }}",
    ],
)
def test_constant_parts_over_the_limits_are_syntax_errors(source: str) -> None:
    started = time.monotonic()
    with pytest.raises(TemplateSyntaxError, match="the template sandbox allows"):
        check_template(source)
    assert time.monotonic() - started < 0.5


def test_constant_expressions_over_the_limits_are_syntax_errors() -> None:
    with pytest.raises(TemplateSyntaxError, match="bits"):
        check_expression("3 ** (10 ** 9) > 1")
    # Only what is known before running: the rest is checked as it runs.
    check_expression("input.n ** (10 ** 9)")
    check_template("{{ 1 / 0 }}")


@pytest.mark.parametrize(
    "source",
    [
        "{{ " + "(" * 50_000 + "1" + ")" * 50_000 + " }}",
        "x {{ " + "[" * 5_000 + "]" * 5_000 + " }}",
        "{{ x" + ".a" * 30_000 + " }}",
        "{% if x %}" * 3_000 + "{% endif %}" * 3_000,
        # Deeper than Python allows the code Jinja generates (20 nested blocks).
        "{% for x in y %}" * 25 + "{% endfor %}" * 25,
    ],
    ids=["parentheses", "lists", "attributes", "ifs", "loops"],
)
def test_templates_nested_too_deeply_are_syntax_errors(source: str) -> None:
    with pytest.raises(TemplateSyntaxError, match="nested too deeply"):
        check_template(source)


def test_unknown_filters_are_found_when_checked() -> None:
    # The template is compiled when checked, as it will be when it runs.
    with pytest.raises(TemplateSyntaxError, match="No filter named 'nosuch'"):
        check_template("text {{ input | nosuch }}")
