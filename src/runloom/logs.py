"""Log lines: as today (text) or, with ``RUNLOOM_LOG_FORMAT=json``, one JSON object a line.

A JSON line has ``time``, ``level``, ``logger``, ``message`` and, when there is one,
``exception``; and the ids of what the process was working on when it logged:
``request_id`` (set by the API's request middleware), ``run_id`` and ``project_id`` (set
by the API for the run or project a request's path names, and ``run_id`` by the tracker
for the run it follows). They live in context variables, so each asyncio task
carries its own. With tracing on, ``trace_id`` names the trace the line was written in.

Stdlib-only (and runloom.tracing, which is too): every process imports it.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

from runloom import tracing

__all__ = [
    "ContextFilter",
    "JsonFormatter",
    "LogFormat",
    "configure_logging",
    "project_id",
    "request_id",
    "run_id",
]

LogFormat = Literal["text", "json"]

request_id: ContextVar[str | None] = ContextVar("runloom_request_id", default=None)
run_id: ContextVar[str | None] = ContextVar("runloom_run_id", default=None)
project_id: ContextVar[str | None] = ContextVar("runloom_project_id", default=None)

_IDS = (("request_id", request_id), ("run_id", run_id), ("project_id", project_id))
_FIELDS = (*(name for name, _ in _IDS), "trace_id")
# uvicorn configures handlers of its own on these; in JSON mode they go through the root's.
_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")


class ContextFilter(logging.Filter):
    """Puts the ids of the current context on every record (None where unset)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, variable in _IDS:
            if getattr(record, name, None) is None:
                setattr(record, name, variable.get())
        if getattr(record, "trace_id", None) is None:
            # The line and the trace of the same work can be found from each other.
            record.trace_id = tracing.current_trace_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a record, without newlines inside (tracebacks included)."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                document[name] = value
        if record.exc_info:
            document["exception"] = "".join(traceback.format_exception(*record.exc_info))
        elif record.exc_text:
            document["exception"] = record.exc_text
        return json.dumps(document, default=str, ensure_ascii=False)


class _JsonHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler this module installs (recognised so that it is installed once)."""


def configure_logging(log_format: LogFormat) -> None:
    """Set up this process's logging for ``log_format``. Text leaves logging as it always
    was; JSON sends every record (uvicorn's too) at INFO and above to stderr as JSON.
    Safe to call again (e.g. after uvicorn configured its loggers)."""
    if log_format != "json":
        return
    root = logging.getLogger()
    if not any(isinstance(h, _JsonHandler) for h in root.handlers):
        handler = _JsonHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler.addFilter(ContextFilter())
        root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    for name in _UVICORN:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
