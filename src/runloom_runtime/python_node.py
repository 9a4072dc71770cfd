"""Runs the code of `python` nodes inside an activity.

The node's code is a function *body*. It reaches generated modules only as a string
literal and is compiled at run time: the body is parsed and placed, as a syntax tree,
inside ``def <node>(input, steps, item=None, index=None, error=None)`` so that line numbers in
tracebacks match what the user wrote. A read-only mapping ``secrets`` is a global of it.

Where it runs: in a thread of this process by default (exports, tests). A runloom worker
installs an *executor* with :func:`set_executor` instead, and every call then goes to an
isolated runner process; this module keeps mapping the outcome onto Temporal the same way.

An exception raised by the code becomes a *retryable* ``ApplicationError`` whose type is
the exception's class name and whose message is the exception's message. Compiled
workflows give python nodes a single attempt unless the node declares a retry policy,
so by default a python error fails the run at once; a node that declares one is retried,
and can still list exception class names as ``non_retryable_error_types``. Code that does
not compile, and a result that is not JSON, fail without retry.
"""

from __future__ import annotations

import ast
import asyncio
import functools
import json
import traceback
import types
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from runloom_runtime import project_secrets, step_logs

__all__ = [
    "PARAMETERS",
    "Executor",
    "NestedTooDeeplyError",
    "build_function",
    "check_code",
    "run",
    "set_executor",
    "wrap_body",
]

# ``error``: on an error path, the error that led there ({"type", "message", "node_id"}).
PARAMETERS = ("input", "steps", "item", "index", "error")

Executor = Callable[..., Awaitable[Mapping[str, Any]]]
"""``await executor(code=, node_id=, args=, timeout_s=, secrets=)`` returns a reply:
``{"ok": True, "output": ..., "logs"?: str}`` or ``{"ok": False, "error_type": str,
"error_message": str, "non_retryable": bool, "traceback"?: str, "logs"?: str}``.
``timeout_s`` is what is left of the activity's timeouts (None outside an activity)."""

_executor: Executor | None = None
_NO_SECRETS: Mapping[str, str] = types.MappingProxyType({})


def set_executor(executor: Executor | None) -> None:
    """Send every later call to ``executor`` (process-wide); None runs them in-thread."""
    global _executor  # one executor per worker process, by design
    _executor = executor


def wrap_body(code: str, name: str, filename: str) -> ast.Module:
    """Parse a function body and wrap it as ``def name(input, steps, item=None, ...)``.

    Self-contained on purpose (only ``ast`` and ``PARAMETERS``): the sandbox runner, which
    cannot import this package, receives this function's source text.
    """
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
        defaults=[ast.Constant(None) for _ in PARAMETERS[2:]],
    )
    func = ast.FunctionDef(name=name, args=args, body=body, decorator_list=[], returns=None)
    module = ast.Module(body=[func], type_ignores=[])
    return ast.fix_missing_locations(module)


class NestedTooDeeplyError(SyntaxError):
    """The code nests brackets, operators or calls deeper than Python can parse."""


def check_code(code: str, *, node_id: str) -> None:
    """Raise ``SyntaxError`` if ``code`` is not a valid function body
    (:class:`NestedTooDeeplyError` if Python's parser or compiler gives up on its depth)."""
    try:
        build_function(code, node_id=node_id)
    except (RecursionError, MemoryError) as err:
        # `-` * 30_000 + `1` exhausts the parser's stack (MemoryError), `1+` * 1_000 the
        # compiler's recursion: neither is a crash of runloom, both are the code's shape.
        raise NestedTooDeeplyError(
            f"the code is nested too deeply to parse ({type(err).__name__}): split long "
            "chains of operators, calls or brackets into several statements"
        ) from None


@functools.lru_cache(maxsize=256)
def build_function(code: str, *, node_id: str) -> Callable[..., Any]:
    """Compile ``code`` into a function of (input, steps, item, index)."""
    filename = f"<python node {node_id!r}>"
    tree = wrap_body(code, "node", filename)
    namespace: dict[str, Any] = {"__name__": "runloom_python_node", "secrets": _NO_SECRETS}
    exec(compile(tree, filename, "exec"), namespace)  # noqa: S102 - running user code is the point
    function: Callable[..., Any] = namespace["node"]
    return function


def _with_secrets(function: Callable[..., Any], secrets: Mapping[str, str]) -> Callable[..., Any]:
    # A copy with its own globals: concurrent calls of one cached function must not share.
    assert isinstance(function, types.FunctionType)
    namespace = {**function.__globals__, "secrets": types.MappingProxyType(dict(secrets))}
    return types.FunctionType(
        function.__code__, namespace, function.__name__, function.__defaults__
    )


async def run(
    code: str,
    args: Mapping[str, Any],
    *,
    node_id: str,
    secrets: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run a python node's code with ``args`` (input, steps, item, index).

    Returns ``{"output": <JSON>, "attempt": n}``, plus ``"logs"`` when the code printed or
    logged something (bounded, :mod:`.step_logs`). A failure's ``ApplicationError`` carries
    ``{"logs", "traceback"}`` as its details: the traceback only through the node's code.
    With ``secrets``, every value of them is redacted from the output, the logs and any
    error before Temporal records them (:mod:`.project_secrets`).
    """
    call_args = {p: args.get(p) for p in PARAMETERS}
    if not secrets:
        return await _run(code, call_args, node_id=node_id, secrets=None)
    with project_secrets.redacting(secrets):
        result = await _run(code, call_args, node_id=node_id, secrets=secrets)
    redacted: dict[str, Any] = project_secrets.redact(result, secrets)
    return redacted


async def _run(
    code: str,
    call_args: dict[str, Any],
    *,
    node_id: str,
    secrets: Mapping[str, str] | None,
) -> dict[str, Any]:
    if _executor is not None:
        return await _run_with(_executor, code, call_args, node_id=node_id, secrets=secrets)
    try:
        function = build_function(code, node_id=node_id)
    except (SyntaxError, RecursionError, MemoryError) as err:
        raise ApplicationError(
            f"python node {node_id!r} does not compile: {err}",
            type="SyntaxError",
            non_retryable=True,
        ) from err
    if secrets:
        function = _with_secrets(function, secrets)
    with step_logs.capturing() as capture:
        try:
            # A thread keeps blocking user code from stalling the worker's event loop.
            result = await asyncio.to_thread(step_logs.call_captured, capture, function, call_args)
        except Exception as err:
            details = _failure_details(capture.text(), _user_traceback(err, code, node_id))
            raise ApplicationError(
                f"{type(err).__name__}: {err}", details, type=type(err).__name__
            ) from err
    try:
        json.dumps(result, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ApplicationError(
            f"python node {node_id!r} returned a value that is not JSON: {err}",
            _failure_details(capture.text(), []),
            type="ResultNotJson",
            non_retryable=True,
        ) from err
    return _envelope(result, capture.text())


async def _run_with(
    executor: Executor,
    code: str,
    args: dict[str, Any],
    *,
    node_id: str,
    secrets: Mapping[str, str] | None,
) -> dict[str, Any]:
    reply = await executor(
        code=code,
        node_id=node_id,
        args=args,
        timeout_s=_time_left(),
        secrets=dict(secrets or {}),
    )
    logs = str(reply.get("logs") or "")
    if not reply.get("ok"):
        # The runner keeps only the frames of the node's own code in its traceback.
        trace = str(reply.get("traceback") or "").splitlines()
        raise ApplicationError(
            str(reply.get("error_message")),
            _failure_details(logs, trace),
            type=str(reply.get("error_type")),
            non_retryable=bool(reply.get("non_retryable")),
        )
    return _envelope(reply.get("output"), logs)


def _envelope(output: Any, logs: str) -> dict[str, Any]:
    """What the activity returns; Temporal keeps it, logs included, in the run's history."""
    result = {"output": output, "attempt": _attempt()}
    if logs:
        result["logs"] = logs
    return result


def _failure_details(logs: str, traceback_lines: list[str]) -> dict[str, Any]:
    """The details of a failed call's ``ApplicationError``: its logs and traceback lines,
    kept with the failure in the run's history."""
    return {"logs": logs, "traceback": traceback_lines}


_MAX_TRACEBACK_CHARS = 32 * 1024  # as the sandbox runner's


def _user_traceback(err: BaseException, code: str, node_id: str) -> list[str]:
    """The traceback of ``err`` through the node's own code only: runloom's frames (and
    those of libraries it called) are not the user's to read."""
    filename = f"<python node {node_id!r}>"
    lines = code.splitlines()
    frames = [
        traceback.FrameSummary(
            frame.filename,
            frame.lineno,
            frame.name,
            line=lines[frame.lineno - 1] if frame.lineno and frame.lineno <= len(lines) else "",
        )
        for frame in traceback.extract_tb(err.__traceback__)
        if frame.filename == filename
    ]
    text = "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
    text += "".join(traceback.format_exception_only(type(err), err))
    if len(text) > _MAX_TRACEBACK_CHARS:
        text = text[:_MAX_TRACEBACK_CHARS] + " [truncated]"
    return text.splitlines()


def _attempt() -> int | None:
    return activity.info().attempt if activity.in_activity() else None


# The runner is stopped this much before Temporal's own timeout, so that the node fails
# with the runner's clear TimeoutError rather than a bare "activity StartToClose timeout"
# (the server's clock and this one also differ by a little).
_TIMEOUT_MARGIN_S = 0.5


def _time_left() -> float | None:
    """Seconds the code may run: what is left before Temporal gives up on this attempt,
    less a margin, if in an activity."""
    if not activity.in_activity():
        return None
    info = activity.info()
    now = datetime.now(UTC)
    left: list[timedelta] = []
    if info.start_to_close_timeout:
        left.append(info.start_to_close_timeout - (now - _utc(info.started_time)))
    if info.schedule_to_close_timeout:
        left.append(info.schedule_to_close_timeout - (now - _utc(info.scheduled_time)))
    if not left:
        return None
    remaining = min(left).total_seconds()
    return max(remaining - min(_TIMEOUT_MARGIN_S, remaining / 4), 0.0)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
