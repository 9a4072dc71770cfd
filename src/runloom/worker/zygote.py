"""The zygote: a warm parent that forks project workers, so that a worker skips the
second or so of imports and shares those pages with its siblings.

``python -s -P -m runloom.worker.zygote <fd>`` is started by a manager (through
:mod:`runloom.worker.forked`) with the scrubbed environment of a worker. It imports what
a worker needs (temporalio's client, worker and workflow sandbox, runloom_runtime, the
worker's own modules), creates no Temporal runtime, client or thread, freezes the
collector's generations so that children keep sharing the pages, and says ``ready`` on
the socket ``<fd>`` (one end of an unnamed socketpair whose other end only the manager
holds).

Each request on that socket is one JSON datagram ``{"id", "cwd"}`` with three file
descriptors: the future worker's stdin, stdout and stderr. The zygote forks; the child
closes the socket, moves the descriptors onto 0, 1 and 2, becomes a process group of its own,
asks to be killed if the zygote dies, enters its private working directory and runs the
ordinary worker main (:func:`runloom.worker.process.main`), which reads its ``Start``
from stdin as an exec'd worker does. Nothing secret crosses the socket. The zygote
answers ``{"id", "pid"}`` (or ``{"id", "error"}``), reaps its children and reports
``{"exit": pid, "code": code}`` (negative: killed by that signal).

When the manager's end closes, the zygote stops forking, waits for its children (their
stdin ends with the manager, so they shut down) and exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import json
import os
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

__all__ = ["serve"]

_PR_SET_PDEATHSIG = 1
_REQUEST_BYTES = 64 * 1024
_STDIO = 3
# The exit code of a child that failed before the worker's own main ran.
_EXIT_STATUS_UNKNOWN = 70


# Everything a worker imports before it polls, and what generated code imports.
PRELOAD = (
    "concurrent.futures.thread",
    "psutil",
    "temporalio.activity",
    "temporalio.client",
    "temporalio.common",
    "temporalio.converter",
    "temporalio.exceptions",
    "temporalio.worker",
    "temporalio.runtime",
    "temporalio.worker.workflow_sandbox",
    "temporalio.worker.workflow_sandbox._in_sandbox",
    "temporalio.workflow",
    "runloom.hardening",
    "runloom.sandbox",
    "runloom.temporal_access",
    "runloom.tracing",
    "runloom.worker.live_states",
    "runloom.worker.loader",
    "runloom.worker.memory",
    "runloom.worker.process",
    "runloom.worker.sdk_metrics",
    "runloom.worker.secrets_pipe",
    "runloom.worker.user_code",
    "runloom_runtime.graph",
    "runloom_runtime.http",
    "runloom_runtime.live",
    "runloom_runtime.python_node",
    "runloom_runtime.secret_steps",
    "runloom_runtime.templates",
)
# What a worker imports when its manager asks for tracing: shared if installed.
_PRELOAD_IF_INSTALLED = (
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.sdk.resources",
    "opentelemetry.sdk.trace",
    "opentelemetry.sdk.trace.export",
    "temporalio.contrib.opentelemetry",
)


def _preload() -> None:
    for name in PRELOAD:
        importlib.import_module(name)
    for name in _PRELOAD_IF_INSTALLED:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    from temporalio.worker.workflow_sandbox import SandboxRestrictions

    # Built on first use otherwise, in every child: the sandbox's restriction tables.
    SandboxRestrictions.default.with_passthrough_modules("runloom_runtime.live")


def _threads() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return threading.active_count()


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    # The manager may be gone (then nobody is left to tell).
    with contextlib.suppress(OSError):
        sock.send(json.dumps(message).encode())


def _set_parent_death_signal(parent: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the zygote died before the signal was armed
        os._exit(_EXIT_STATUS_UNKNOWN)


def _become_worker(*, cwd: str, fds: list[int], parent: int, close: Callable[[], None]) -> NoReturn:
    """In the child: never returns into the zygote's loop."""
    code = _EXIT_STATUS_UNKNOWN
    try:
        started = time.monotonic()
        close()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        # Whatever else the imports opened: the worker gets 0, 1, 2 and nothing more.
        os.closerange(_STDIO, 1 << 16)
        # A process group of its own (the zygote sets it too, so that it holds before the
        # manager hears the pid): stopping the worker reaches whatever it started. The
        # zygote's session has no terminal, so a session of its own would add nothing.
        os.setpgid(0, 0)
        _set_parent_death_signal(parent)
        os.chdir(cwd)
        from runloom.worker import process

        code = process.main(started=started)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def _fork(
    sock: socket.socket, request: dict[str, Any], fds: list[int], close: Callable[[], None]
) -> int | None:
    """Fork one worker for ``request``; its pid, or None after answering an error."""
    ident = request.get("id")
    try:
        cwd = str(request["cwd"])
        if len(fds) != _STDIO:
            raise ValueError(f"expected {_STDIO} file descriptors, got {len(fds)}")
        # A thread would not survive the fork, and whatever it held (a lock) would stay
        # held for ever in the child.
        if threading.active_count() != 1 or _threads() != 1:
            raise RuntimeError(f"the zygote has {_threads()} threads; it forks with one only")
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            _become_worker(cwd=cwd, fds=fds, parent=parent, close=close)
        with contextlib.suppress(OSError):  # it may have set it (or exited) already
            os.setpgid(pid, pid)
    except Exception as exc:
        _send(sock, {"id": ident, "error": f"{type(exc).__name__}: {exc}"})
        return None
    finally:
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
    _send(sock, {"id": ident, "pid": pid})
    return pid


def _reap(sock: socket.socket, children: set[int]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            children.clear()
            return
        if pid == 0:
            return
        children.discard(pid)
        _send(sock, {"exit": pid, "code": os.waitstatus_to_exitcode(status)})


def _receive(sock: socket.socket) -> tuple[dict[str, Any], list[int]] | None:
    """One request, or None when the manager's end is closed."""
    data, fds, _flags, _address = socket.recv_fds(sock, _REQUEST_BYTES, _STDIO)
    if not data:
        for fd in fds:
            os.close(fd)
        return None
    try:
        request = json.loads(data)
    except ValueError:
        request = {}
    return (request if isinstance(request, dict) else {}), fds


def serve(sock: socket.socket) -> int:
    """Fork a worker per request until the manager's end closes and the children ended."""
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    # A handler (doing nothing) is what makes SIGCHLD reach the wakeup fd.
    signal.signal(signal.SIGCHLD, lambda *_: None)

    def close_in_child() -> None:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        sock.close()
        os.close(wake_r)
        os.close(wake_w)

    children: set[int] = set()
    open_ = True
    while open_ or children:
        watched = [sock.fileno(), wake_r] if open_ else [wake_r]
        readable, _, _ = select.select(watched, [], [])
        if wake_r in readable:
            with contextlib.suppress(BlockingIOError):
                os.read(wake_r, 4096)
        _reap(sock, children)
        if open_ and sock.fileno() in readable:
            received = _receive(sock)
            if received is None:
                open_ = False
                continue
            pid = _fork(sock, *received, close_in_child)
            if pid is not None:
                children.add(pid)
    return 0


def main(argv: list[str]) -> int:
    sock = socket.socket(fileno=int(argv[1]))
    from runloom.hardening import SANDBOX_MAPPING_CAPS, drop_capabilities, make_non_dumpable

    # What every worker does first thing: done once here, inherited by each fork.
    make_non_dumpable()
    drop_capabilities(keep=SANDBOX_MAPPING_CAPS if os.geteuid() == 0 else frozenset())
    began = time.monotonic()
    _preload()
    # Objects that exist now are never collected in the children: the collector does
    # not write to their pages, which stay shared with every sibling.
    gc.collect()
    gc.freeze()
    _send(sock, {"ready": os.getpid(), "preload_ms": round((time.monotonic() - began) * 1000)})
    return serve(sock)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
