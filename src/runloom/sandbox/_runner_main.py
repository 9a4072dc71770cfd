"""The program of a python-node runner, run as ``python -I -S -c <this file's text>``.

It must not import runloom: inside the jail there is no checkout, only the standard library
(and, read-only, the venv's site-packages for libraries a node imports). Everything it needs
from the worker arrives in the first message (limits, the seccomp program, the source of the
function-body wrapper shared with ``runloom_runtime.python_node``).

Protocol on the pipes it was started with: each message is a 4-byte big-endian length and a
UTF-8 JSON object. The worker sends ``hello``, the runner answers ``{"ready": true}``; then
one reply per request. The pipes move to private fd numbers at once, so that whatever user
code writes to fd 1 or 2, or ``print``s, lands in the call's ``logs`` and not in the protocol.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import json
import linecache
import logging
import math
import os
import resource
import signal
import struct
import sys
import traceback
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

HEADER = struct.Struct(">I")
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
NO_SECRETS: Mapping[str, str] = types.MappingProxyType({})
REDACTED = "[redacted]"
MAX_MESSAGE = 8 * 1024
MAX_TRACE = 32 * 1024


class Channel:
    """The protocol pipes, moved off fds 0 and 1."""

    def __init__(self) -> None:
        self.rfd = os.dup(0)  # os.dup makes non-inheritable fds: children never get them
        self.wfd = os.dup(1)
        self._reader = io.FileIO(self.rfd, "rb", closefd=False)

    def read(self) -> dict[str, Any] | None:
        head = self._read_exactly(HEADER.size)
        if head is None:
            return None
        body = self._read_exactly(HEADER.unpack(head)[0])
        return None if body is None else dict(json.loads(body))

    def _read_exactly(self, size: int) -> bytes | None:
        chunks = bytearray()
        while len(chunks) < size:
            chunk = self._reader.read(size - len(chunks))
            if not chunk:
                return None
            chunks += chunk
        return bytes(chunks)

    def write(self, payload: bytes) -> None:
        view = memoryview(HEADER.pack(len(payload)) + payload)
        while view:
            view = view[os.write(self.wfd, view) :]

    def close(self) -> None:
        for fd in (self.rfd, self.wfd):
            with contextlib.suppress(OSError):
                os.close(fd)


class Capture(io.TextIOBase):
    """``sys.stdout``, ``sys.stderr`` and the logging stream of a call, bounded."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def reset(self) -> None:
        self.parts.clear()
        self.size = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, s: str, /) -> int:
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        kept = s[: max(self.limit - self.size, 0)]
        if kept:
            self.parts.append(kept)
            self.size += len(kept)
        self.dropped += len(s) - len(kept)
        return len(s)

    def text(self, raw_fd: int) -> str:
        # Output written to fd 1/2 directly (C code, subprocesses) is in the memfd.
        written = os.fstat(raw_fd).st_size
        os.lseek(raw_fd, 0, os.SEEK_SET)
        raw = os.read(raw_fd, max(self.limit - self.size, 0)) if written else b""
        os.ftruncate(raw_fd, 0)
        os.lseek(raw_fd, 0, os.SEEK_SET)
        self.dropped += written - len(raw)  # bytes, near enough to characters here
        if raw:
            self.write(raw.decode("utf-8", "replace"))
        text = "".join(self.parts)
        if self.dropped:
            # The same marker as runloom_runtime.step_logs.cut_marker (not importable here).
            text += f"\n[log cut: {self.dropped} more characters dropped]"
        # Lone surrogates (print("\ud800")) would follow the logs into storage.
        return text.encode("utf-8", "replace").decode("utf-8")


def _prctl(libc: ctypes.CDLL, option: int, arg: Any) -> None:
    if libc.prctl(option, arg, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl({option}): {os.strerror(err)}")


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install_seccomp(libc: ctypes.CDLL, program: bytes) -> None:
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"seccomp filter refused: {os.strerror(err)}")


def confine(hello: Mapping[str, Any]) -> None:
    """Drop what the runner does not need, before any user code exists."""
    drop_to = hello.get("drop_to")
    if drop_to is not None and os.getuid() == 0:
        # The jail maps one unprivileged host id here: beyond root, processes are counted.
        os.setgroups([])
        os.setresgid(drop_to, drop_to, drop_to)
        os.setresuid(drop_to, drop_to, drop_to)
    libc = ctypes.CDLL(None, use_errno=True)
    _prctl(libc, PR_SET_NO_NEW_PRIVS, 1)
    for name, value in hello["rlimits"].items():
        resource.setrlimit(getattr(resource, name), (value, value))
    # Past RLIMIT_FSIZE a write fails with EFBIG instead of killing the runner.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    if hello.get("seccomp"):
        install_seccomp(libc, bytes.fromhex(hello["seccomp"]))


class Runtime:
    """Compiles and runs node code, one call at a time."""

    def __init__(self, hello: Mapping[str, Any], channel: Channel) -> None:
        self.channel = channel
        self.pid = os.getpid()
        self.cpu_s = int(hello["cpu_s"])
        self.memory_mb = int(hello["memory_mb"])
        self.max_processes = int(hello["max_processes"])
        self.max_reply = int(hello["max_reply_bytes"])
        helper: dict[str, Any] = {}
        exec(compile(hello["wrapper_source"], "<runloom wrapper>", "exec"), helper)  # noqa: S102
        self.parameters: tuple[str, ...] = tuple(helper["PARAMETERS"])
        self.wrap: Callable[[str, str, str], Any] = helper[hello["wrapper_name"]]
        self.functions: dict[tuple[str, str], Callable[..., Any]] = {}
        self.capture = Capture(int(hello["max_log_chars"]))
        self.raw_output = os.memfd_create("runloom-output")
        self.forked = False
        self.own_threads = 1  # the runner's own: the main one, and the network relay's
        root = logging.getLogger()
        root.setLevel(logging.INFO)
        handler = logging.StreamHandler(self.capture)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        os.register_at_fork(after_in_child=self._after_fork_child, after_in_parent=self._forked)

    def _after_fork_child(self) -> None:
        self.channel.close()

    def _forked(self) -> None:
        self.forked = True

    def redirect_output(self) -> None:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(self.raw_output, 1)
        os.dup2(self.raw_output, 2)

    def function(self, code: str, node_id: str) -> Callable[..., Any]:
        key = (code, node_id)
        function = self.functions.get(key)
        if function is None:
            filename = f"<python node {node_id!r}>"
            tree = self.wrap(code, "node", filename)
            namespace: dict[str, Any] = {"__name__": "runloom_python_node", "secrets": NO_SECRETS}
            exec(compile(tree, filename, "exec"), namespace)  # noqa: S102 - the point
            function = namespace["node"]
            lines = code.splitlines(keepends=True)
            linecache.cache[filename] = (len(code), None, lines, filename)
            if len(self.functions) >= 256:
                self.functions.pop(next(iter(self.functions)))
            self.functions[key] = function
        return function

    def handle(self, request: Mapping[str, Any]) -> bytes:
        node_id = str(request["node_id"])
        secrets = {str(k): str(v) for k, v in dict(request.get("secrets") or {}).items()}
        self.capture.reset()
        self.forked = False
        try:
            function = self.function(str(request["code"]), node_id)
        except (SyntaxError, ValueError, RecursionError) as err:
            # ValueError: NUL bytes; RecursionError: nesting too deep for the compiler.
            message = f"python node {node_id!r} does not compile: {err}"
            return self.error("SyntaxError", message, None, secrets, non_retryable=True)
        args = dict(request.get("args") or {})
        function.__globals__["secrets"] = types.MappingProxyType(secrets)
        self._limit_cpu()
        sys.stdout = sys.stderr = self.capture
        try:
            result = function(**{p: args.get(p) for p in self.parameters})
        except BaseException as err:
            self._leave_if_child()
            return self.user_error(err, node_id, secrets)
        finally:
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
            function.__globals__["secrets"] = NO_SECRETS
        self._leave_if_child()
        return self.success(result, node_id, secrets)

    def _leave_if_child(self) -> None:
        # Code that forked returns here in the child too; only the runner may answer.
        if os.getpid() != self.pid:
            os._exit(0)

    def _limit_cpu(self) -> None:
        used = sum(os.times()[:2])
        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        soft = math.ceil(used) + self.cpu_s
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))

    def user_error(self, err: BaseException, node_id: str, secrets: dict[str, str]) -> bytes:
        name = type(err).__name__
        detail = str(err)
        if isinstance(err, MemoryError) and not detail:
            detail = f"out of memory (the limit is {self.memory_mb} MB)"
        elif isinstance(err, BlockingIOError) and self.forked:
            detail += f" (the limit is {self.max_processes} processes and threads)"
        filename = f"<python node {node_id!r}>"
        frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename == filename]
        text = "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
        text += "".join(traceback.format_exception_only(type(err), err))
        recycle = isinstance(err, MemoryError)
        return self.error(name, f"{name}: {detail}", text, secrets, recycle=recycle)

    def error(
        self,
        error_type: str,
        message: str,
        trace: str | None,
        secrets: dict[str, str],
        *,
        non_retryable: bool = False,
        recycle: bool = False,
    ) -> bytes:
        reply = {
            "ok": False,
            "error_type": error_type[:200],
            "error_message": _cut(redact(message, secrets), MAX_MESSAGE),
            "traceback": None if trace is None else _cut(redact(trace, secrets), MAX_TRACE),
            "non_retryable": non_retryable,
        }
        return self.encode(reply, secrets, recycle=recycle)

    def success(self, result: Any, node_id: str, secrets: dict[str, str]) -> bytes:
        try:
            reply = self.encode({"ok": True, "output": result}, secrets, recycle=False)
        except (TypeError, ValueError, RecursionError) as err:
            message = f"python node {node_id!r} returned a value that is not JSON: {err}"
            return self.error("ResultNotJson", message, None, secrets, non_retryable=True)
        if len(reply) > self.max_reply:
            message = (
                f"python node {node_id!r} returned {len(reply)} bytes of JSON, "
                f"more than the {self.max_reply} allowed"
            )
            return self.error("ResultTooLarge", message, None, secrets, non_retryable=True)
        return reply

    def encode(self, reply: dict[str, Any], secrets: dict[str, str], *, recycle: bool) -> bytes:
        reply["logs"] = redact(self.capture.text(self.raw_output), secrets)
        # A fork or a thread left behind would outlive the call: start the next afresh.
        threads = _threads() > self.own_threads
        reply["recycle"] = recycle or self.forked or threads or _has_children()
        # ASCII: a lone surrogate in the output stays an escape, valid on the wire.
        return json.dumps(reply, allow_nan=False).encode()


def _has_children() -> bool:
    # subprocess starts children without the fork hooks: ask the kernel instead.
    pid = os.getpid()
    try:
        return bool(Path(f"/proc/{pid}/task/{pid}/children").read_text().strip())
    except OSError:
        return False


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + " [truncated]"


def _threads() -> int:
    return sum(1 for _ in Path("/proc/self/task").iterdir())


def redact(text: str, secrets: Mapping[str, str]) -> str:
    for value in secrets.values():
        if len(value) >= 4:
            text = text.replace(value, REDACTED)
    return text


def start_network(network: Mapping[str, Any]) -> None:
    """Network on: the forwarder to the worker's egress proxy (``_runner_network.py``)."""
    namespace: dict[str, Any] = {"__name__": "runloom_network"}
    exec(compile(network["source"], "<runloom network>", "exec"), namespace)  # noqa: S102
    namespace["start"](str(network["socket"]))


def main() -> None:
    # Whatever else the runner was started with (bubblewrap's set-up pipes) is not for
    # user code.
    os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    channel = Channel()
    hello = channel.read()
    if hello is None:
        return
    sys.path.extend(hello.get("sys_path", []))
    runtime = Runtime(hello, channel)
    confine(hello)
    if hello.get("network"):
        start_network(hello["network"])  # after confine: the thread inherits the filter
        runtime.own_threads += 1
    runtime.redirect_output()
    channel.write(json.dumps({"ready": True, "pid": os.getpid()}).encode())
    while (request := channel.read()) is not None:
        channel.write(runtime.handle(request))


if __name__ == "__main__":
    main()
