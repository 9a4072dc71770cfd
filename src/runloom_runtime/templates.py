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

from jinja2 import Template, TemplateSyntaxError, Undefined, nodes
from jinja2.parser import Parser
from markupsafe import Markup
from temporalio import workflow

from runloom_runtime.template_limits import TemplateLimitError
from runloom_runtime.template_sandbox import BoundedSandbox

__all__ = [
    "TemplateEvaluationError",
    "TemplateLimitError",
    "TemplateSyntaxError",
    "check_expression",
    "check_template",
    "evaluate",
    "expression_tree",
    "render",
    "template_tree",
    "to_json_value",
]

# `{{` ... `}}` with nothing around it but whitespace, and no other tag inside.
_SINGLE_EXPRESSION = re.compile(r"\A\s*\{\{(?P<expr>(?:(?!\{\{|\}\}|\{%|\{#).)*)\}\}\s*\Z", re.S)


class TemplateEvaluationError(Exception):
    """A template or expression failed while being evaluated (not while being parsed)."""


def _make_environment() -> BoundedSandbox:
    # Immutable: a template must not change `input` or `steps` behind the graph's back.
    # Bounded: no operation may build a huge value (see runloom_runtime.template_limits).
    env = BoundedSandbox()
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
    """Raise :class:`jinja2.TemplateSyntaxError` if ``source`` is not a valid template:
    if it does not compile, as it would when run, or if a constant part of it is over
    the sandbox's limits (``{{ 3 ** 10 ** 9 }}``)."""
    match = _SINGLE_EXPRESSION.match(source)
    if match is not None:
        check_expression(match.group("expr"))
        return
    with _too_deep_is_invalid():
        _ENV.compile(source)
        _check_constants(_ENV.parse(source))


def check_expression(source: str) -> None:
    """Raise :class:`jinja2.TemplateSyntaxError` if ``source`` is not a valid expression."""
    if not source.strip():
        raise TemplateSyntaxError("the expression is empty", lineno=1)
    with _too_deep_is_invalid():
        _ENV.compile_expression(source)
        _check_constants(Parser(_ENV, source, state="variable").parse_expression())


def template_tree(source: str) -> nodes.Template:
    """The syntax tree of a template (checked with :func:`check_template` first), for the
    compiler to see what it reads."""
    return _ENV.parse(source)


def expression_tree(source: str) -> nodes.Expr:
    """The syntax tree of an expression (checked with :func:`check_expression` first)."""
    return Parser(_ENV, source, state="variable").parse_expression()


@contextlib.contextmanager
def _too_deep_is_invalid() -> Iterator[None]:
    # Jinja's parser and code generator recurse, and Python's compiler has limits of its
    # own (100 levels of indentation, 20 nested blocks): a template nested deeper than
    # they allow cannot run, so it is a syntax error of the template, not of runloom.
    # (A MemoryError is left alone: a long template may truly need more memory.)
    try:
        yield
    except (RecursionError, SyntaxError) as err:
        raise TemplateSyntaxError(
            "it is nested too deeply to parse (brackets, operators, filters or blocks "
            f"inside one another; {type(err).__name__}); flatten it",
            lineno=1,  # a SyntaxError's line is one of the code Jinja generated
        ) from None


_ARITHMETIC = (nodes.Add, nodes.Sub, nodes.Mul, nodes.Div, nodes.FloorDiv, nodes.Mod, nodes.Pow)


class _Variable(Exception):
    """The expression depends on something only known at run time."""


def _constant_value(node: nodes.Node, known: Mapping[int, Any]) -> Any:
    """``node``'s value from its children's (``known``, by id), as it would run."""
    if isinstance(node, nodes.Const):
        return node.value
    children = [known.get(id(child), _Variable) for child in node.iter_child_nodes()]
    if any(child is _Variable for child in children):
        raise _Variable
    if isinstance(node, _ARITHMETIC):
        assert isinstance(node, nodes.BinExpr)
        return _ENV.call_binop(None, node.operator, *children)  # type: ignore[arg-type]
    if isinstance(node, nodes.Neg | nodes.Pos):
        return -children[0] if isinstance(node, nodes.Neg) else +children[0]
    if isinstance(node, nodes.List | nodes.Tuple):
        return children if isinstance(node, nodes.List) else tuple(children)
    if isinstance(node, nodes.Concat):
        return _ENV.bounded_concat(lambda parts: "".join(str(p) for p in parts), tuple(children))
    raise _Variable


def _check_constants(tree: nodes.Node) -> None:
    """Evaluate the constant arithmetic in ``tree`` (``3 ** 10 ** 9``, ``'x' * 10 ** 9``)
    under the sandbox's limits, so that a value over them is reported when the graph is
    checked rather than when it runs. Other errors (``1 / 0``) are left to run time."""
    known: dict[int, Any] = {}
    order: list[nodes.Node] = []
    stack = [tree]
    while stack:  # without recursion: the tree may be as deep as the parser allowed
        node = stack.pop()
        order.append(node)
        stack.extend(node.iter_child_nodes())
    for node in reversed(order):  # children before their parents
        try:
            known[id(node)] = _constant_value(node, known)
        except TemplateLimitError as err:
            raise TemplateSyntaxError(str(err), lineno=node.lineno or 1) from None
        except (_Variable, ArithmeticError, TypeError, ValueError):
            continue


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
