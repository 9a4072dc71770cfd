"""runloom.logs: the JSON formatter, the filter that adds the context's ids, and
configure_logging."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator

import pytest

from runloom import logs


def _record(message: str = "hello %s", *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("runloom.x", logging.WARNING, __file__, 1, message, args, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_a_record_is_one_json_line_with_time_level_logger_and_message() -> None:
    line = logs.JsonFormatter().format(_record("hello %s", "there"))
    assert "\n" not in line
    document = json.loads(line)
    assert document.keys() == {"time", "level", "logger", "message"}
    assert document["level"] == "WARNING" and document["logger"] == "runloom.x"
    assert document["message"] == "hello there"
    assert document["time"].endswith("+00:00")


def test_an_exception_is_kept_whole_in_one_line() -> None:
    try:
        raise ValueError("boom\non two lines")
    except ValueError:
        record = logging.LogRecord(
            "runloom.x", logging.ERROR, __file__, 1, "failed", (), exc_info=sys.exc_info()
        )
    line = logs.JsonFormatter().format(record)
    assert "\n" not in line
    exception = json.loads(line)["exception"]
    assert "ValueError: boom\non two lines" in exception and "Traceback" in exception


def test_the_filter_adds_the_ids_of_the_current_context_only() -> None:
    record = _record()
    tokens = [logs.request_id.set("req-1"), logs.run_id.set("run-1")]
    try:
        assert logs.ContextFilter().filter(record)
    finally:
        logs.run_id.reset(tokens[1])
        logs.request_id.reset(tokens[0])
    document = json.loads(logs.JsonFormatter().format(record))
    assert document["request_id"] == "req-1" and document["run_id"] == "run-1"
    assert "project_id" not in document  # unset ids are left out, not null
    assert "trace_id" not in document  # tracing is off in this process

    outside = _record()
    logs.ContextFilter().filter(outside)
    assert "request_id" not in json.loads(logs.JsonFormatter().format(outside))


@pytest.fixture
def clean_root() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    uvicorn = logging.getLogger("uvicorn")
    uvicorn_state = (list(uvicorn.handlers), uvicorn.propagate)
    try:
        yield root
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        uvicorn.handlers[:] = uvicorn_state[0]
        uvicorn.propagate = uvicorn_state[1]


def test_text_changes_nothing_and_json_installs_one_handler(clean_root: logging.Logger) -> None:
    before = list(clean_root.handlers)
    logs.configure_logging("text")
    assert clean_root.handlers == before

    uvicorn = logging.getLogger("uvicorn")
    uvicorn.addHandler(logging.NullHandler())
    uvicorn.propagate = False
    logs.configure_logging("json")
    logs.configure_logging("json")  # again, as after uvicorn configured its loggers
    added = [h for h in clean_root.handlers if h not in before]
    assert len(added) == 1
    assert uvicorn.handlers == [] and uvicorn.propagate

    stream = io.StringIO()
    handler = added[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    token = logs.project_id.set("p-1")
    try:
        logging.getLogger("uvicorn.error").warning("from uvicorn")
    finally:
        logs.project_id.reset(token)
    document = json.loads(stream.getvalue())
    assert document["logger"] == "uvicorn.error" and document["project_id"] == "p-1"
