"""What a `python` node prints or logs, captured per call when it runs in a thread of this
process (exports, tests; a runloom worker sends calls to an isolated runner, which
captures them its own way, with the same bound and the same marker).

``sys.stdout`` and ``sys.stderr`` are replaced, once, by streams that write to the
capture of the call running in the current thread, and to the original stream when no
call is: output of the rest of the process passes through unchanged. While at least one
call runs, a handler on the root logger does the same for log records; the loggers'
levels still apply (the process's logging configuration is its owner's), so by default
``logging.warning`` and above are captured. A thread the node's code starts itself is not
part of the call: what it prints goes to the process's own streams.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TextIO

__all__ = ["MAX_LOG_CHARS", "Capture", "call_captured", "capturing", "cut_marker"]

# Logs travel in the activity's result (or failure) and stay in the run's history.
MAX_LOG_CHARS = 64 * 1024


def cut_marker(dropped: int) -> str:
    """What ends logs that were cut: how much is missing. The sandbox runner
    (``runloom/sandbox/_runner_main.py``, which cannot import this) writes the same."""
    return f"\n[log cut: {dropped} more characters dropped]"


class Capture:
    """The output of one call, bounded to ``limit`` characters; what does not fit is
    counted, not kept."""

    def __init__(self, limit: int = MAX_LOG_CHARS) -> None:
        self.limit = limit
        self._parts: list[str] = []
        self._size = 0
        self._dropped = 0
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            kept = text[: max(self.limit - self._size, 0)]
            if kept:
                self._parts.append(kept)
                self._size += len(kept)
            self._dropped += len(text) - len(kept)
        return len(text)

    def text(self) -> str:
        with self._lock:
            text = "".join(self._parts)
            if self._dropped:
                text += cut_marker(self._dropped)
        # Lone surrogates (print("\ud800")) would not survive the run's history.
        return text.encode("utf-8", "replace").decode("utf-8")


_current: contextvars.ContextVar[Capture | None] = contextvars.ContextVar(
    "runloom_step_capture", default=None
)


class _Stream:
    """Stands in for ``sys.stdout`` / ``sys.stderr``: the current call's capture, or the
    stream it replaced."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        capture = _current.get()
        if capture is None:
            return self._inner.write(text)
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        return capture.write(text)

    def flush(self) -> None:
        if _current.get() is None:
            self._inner.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Handler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        capture = _current.get()
        if capture is not None:
            capture.write(self.format(record) + "\n")


_handler = _Handler()
_handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
_calls = 0
_calls_lock = threading.Lock()


def _install_streams() -> None:
    # Checked on every call: a test harness may have swapped the streams since.
    if sys.stdout is not None and not isinstance(sys.stdout, _Stream):
        sys.stdout = _Stream(sys.stdout)
    if sys.stderr is not None and not isinstance(sys.stderr, _Stream):
        sys.stderr = _Stream(sys.stderr)


@contextlib.contextmanager
def capturing(limit: int = MAX_LOG_CHARS) -> Iterator[Capture]:
    """A new capture, with the streams and the logging handler in place while it lasts;
    run the call with :func:`call_captured` so that it writes there."""
    global _calls  # how many calls capture at once: the handler stays while any does
    _install_streams()
    with _calls_lock:
        if _calls == 0:
            logging.getLogger().addHandler(_handler)
        _calls += 1
    try:
        yield Capture(limit)
    finally:
        with _calls_lock:
            _calls -= 1
            if _calls == 0:
                logging.getLogger().removeHandler(_handler)


def call_captured(capture: Capture, function: Callable[..., Any], kwargs: Mapping[str, Any]) -> Any:
    """``function(**kwargs)`` with what it prints and logs going to ``capture``; called in
    the thread that runs the node's code (``asyncio.to_thread``)."""
    token = _current.set(capture)
    try:
        return function(**kwargs)
    finally:
        _current.reset(token)
