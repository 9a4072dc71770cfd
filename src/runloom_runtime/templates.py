"""Templates and expressions over ``input``, ``steps`` (and ``item``/``index`` in for_each).

Both run inside Temporal workflows, so the environment is stripped of everything that is
not a pure function of its arguments: Jinja's ``random`` filter and ``lipsum`` global would
make replays diverge.

A string that is exactly one ``{{ expr }}`` evaluates to the expression's native value, so
``"{{ steps.fetch.body }}"`` yields a dict rather than its text; any other string renders
to a string.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

from jinja2 import ChainableUndefined, Template, TemplateSyntaxError, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment
from markupsafe import Markup
from temporalio import workflow

__all__ = [
    "TemplateEvaluationError",
    "TemplateSyntaxError",
    "check_expression",
    "check_template",
    "evaluate",
    "render",
    "to_json_value",
]

# `{{` ... `}}` with nothing around it but whitespace, and no other tag inside.
_SINGLE_EXPRESSION = re.compile(r"\A\s*\{\{(?P<expr>(?:(?!\{\{|\}\}|\{%|\{#).)*)\}\}\s*\Z", re.S)


class TemplateEvaluationError(Exception):
    """A template or expression failed while being evaluated (not while being parsed)."""


def _make_environment() -> SandboxedEnvironment:
    # Immutable: a template must not change `input` or `steps` behind the graph's back.
    # ChainableUndefined lets `steps.maybe_skipped.field` be falsy instead of an error, so
    # joins after a condition can write `steps.a or steps.b`.
    env = ImmutableSandboxedEnvironment(undefined=ChainableUndefined, autoescape=False)
    env.filters.pop("random", None)
    env.globals.pop("lipsum", None)
    return env


_ENV = _make_environment()


@contextlib.contextmanager
def _outside_sandbox_imports() -> Iterator[None]:
    # Code Jinja compiles runs `from jinja2.runtime import ...`. Inside a workflow the
    # sandbox would re-import Jinja for that run (and warn); Jinja is deterministic, so
    # let it use the modules already loaded in the process.
    if workflow.in_workflow():
        with workflow.unsafe.imports_passed_through():
            yield
    else:
        yield


@functools.lru_cache(maxsize=4096)
def _template(source: str) -> Template:
    with _outside_sandbox_imports():
        return _ENV.from_string(source)


@functools.lru_cache(maxsize=4096)
def _expression(source: str) -> Any:
    with _outside_sandbox_imports():
        return _ENV.compile_expression(source, undefined_to_none=True)


def check_template(source: str) -> None:
    """Raise :class:`jinja2.TemplateSyntaxError` if ``source`` is not a valid template."""
    match = _SINGLE_EXPRESSION.match(source)
    if match is not None:
        check_expression(match.group("expr"))
    else:
        _ENV.parse(source)


def check_expression(source: str) -> None:
    """Raise :class:`jinja2.TemplateSyntaxError` if ``source`` is not a valid expression."""
    if not source.strip():
        raise TemplateSyntaxError("the expression is empty", lineno=1)
    _ENV.compile_expression(source)


def evaluate(expression: str, scope: Mapping[str, Any]) -> Any:
    """Evaluate a Jinja expression and return its value as plain JSON data."""
    try:
        with _outside_sandbox_imports():
            value = _expression(expression)(**scope)
    except Exception as err:
        raise TemplateEvaluationError(
            f"expression {expression!r} failed: {type(err).__name__}: {err}"
        ) from err
    return to_json_value(value)


def render(value: Any, scope: Mapping[str, Any]) -> Any:
    """Render every string inside a JSON value as a template; other values pass through."""
    if isinstance(value, str):
        match = _SINGLE_EXPRESSION.match(value)
        if match is not None:
            return evaluate(match.group("expr"), scope)
        try:
            with _outside_sandbox_imports():
                return _template(value).render(**scope)
        except Exception as err:
            raise TemplateEvaluationError(
                f"template {value!r} failed: {type(err).__name__}: {err}"
            ) from err
    if isinstance(value, Mapping):
        return {str(k): render(v, scope) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [render(v, scope) for v in value]
    return value


def to_json_value(value: Any) -> Any:
    """Turn what an expression returns into something every JSON converter accepts."""
    if isinstance(value, Undefined) or value is None:
        return None
    if isinstance(value, Markup):
        return str(value)
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | range | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [to_json_value(v) for v in items]
    return str(value)
