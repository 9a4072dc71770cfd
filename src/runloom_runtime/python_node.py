"""Runs the code of `python` nodes inside an activity.

The node's code is a function *body*. It reaches generated modules only as a string
literal and is compiled here, at run time: the body is parsed and placed, as a syntax
tree, inside ``def <node>(input, steps, item=None, index=None)`` so that line numbers in
tracebacks match what the user wrote.

An exception raised by the code becomes a *retryable* ``ApplicationError`` whose type is
the exception's class name and whose message is the exception's message. Compiled
workflows give python nodes a single attempt unless the node declares a retry policy,
so by default a python error fails the run at once; a node that declares one is retried,
and can still list exception class names as ``non_retryable_error_types``.
"""

from __future__ import annotations

import ast
import asyncio
import functools
import json
from collections.abc import Callable, Mapping
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

__all__ = ["PARAMETERS", "build_function", "check_code", "run"]

PARAMETERS = ("input", "steps", "item", "index")


def _function_tree(code: str, name: str, filename: str) -> ast.Module:
    body = ast.parse(code, filename=filename, mode="exec").body or [ast.Pass()]
    for node in ast.walk(ast.Module(body=body, type_ignores=[])):
        if isinstance(node, ast.Yield | ast.YieldFrom | ast.Await):
            raise SyntaxError(
                "python nodes return a value; yield and await are not allowed",
                (filename, getattr(node, "lineno", 1), 0, ""),
            )
    args = ast.arguments(
        posonlyargs=[],
        args=[ast.arg(arg=p) for p in PARAMETERS],
        kwonlyargs=[],
        kw_defaults=[],
        defaults=[ast.Constant(None), ast.Constant(None)],
    )
    func = ast.FunctionDef(name=name, args=args, body=body, decorator_list=[], returns=None)
    module = ast.Module(body=[func], type_ignores=[])
    return ast.fix_missing_locations(module)


def check_code(code: str, *, node_id: str) -> None:
    """Raise ``SyntaxError`` if ``code`` is not a valid function body."""
    build_function(code, node_id=node_id)


@functools.lru_cache(maxsize=256)
def build_function(code: str, *, node_id: str) -> Callable[..., Any]:
    """Compile ``code`` into a function of (input, steps, item, index)."""
    filename = f"<python node {node_id!r}>"
    tree = _function_tree(code, "node", filename)
    namespace: dict[str, Any] = {"__name__": "runloom_python_node"}
    exec(compile(tree, filename, "exec"), namespace)  # noqa: S102 - running user code is the point
    function: Callable[..., Any] = namespace["node"]
    return function


async def run(code: str, args: Mapping[str, Any], *, node_id: str) -> dict[str, Any]:
    """Run a python node's code with ``args`` (input, steps, item, index).

    Returns ``{"output": <JSON>, "attempt": n}``.
    """
    try:
        function = build_function(code, node_id=node_id)
    except SyntaxError as err:
        raise ApplicationError(
            f"python node {node_id!r} does not compile: {err}",
            type="SyntaxError",
            non_retryable=True,
        ) from err
    call_args = {p: args.get(p) for p in PARAMETERS}
    try:
        # A thread keeps blocking user code from stalling the worker's event loop.
        result = await asyncio.to_thread(function, **call_args)
    except Exception as err:
        raise ApplicationError(f"{type(err).__name__}: {err}", type=type(err).__name__) from err
    try:
        json.dumps(result, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ApplicationError(
            f"python node {node_id!r} returned a value that is not JSON: {err}",
            type="ResultNotJson",
            non_retryable=True,
        ) from err
    attempt = activity.info().attempt if activity.in_activity() else None
    return {"output": result, "attempt": attempt}
