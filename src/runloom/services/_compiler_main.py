"""A compile process: ``python -m runloom.services._compiler_main MEMORY_MB``.

Started and spoken to by :mod:`runloom.services.compile_pool`. It compiles one graph at a
time with the pure :func:`runloom.compiler.compile_workflow`, under an address-space
limit of MEMORY_MB more than it needed to start; the pool kills it when a compilation
overruns its time. Messages are frames: a 4-byte big-endian length, then the body. A
request is a pickle from the pool (the process that started this one); a reply is JSON:

* ``{"ready": true}`` once, when the process can compile;
* ``{"compiled": {...CompiledWorkflow fields}}``;
* ``{"problems": [{...Problem fields}, ...]}`` for a graph that does not compile;
* ``{"value": ...}`` or ``{"render_error": "..."}`` for a request to render a template
  (``{"render": template, "scope": {...}, "secrets": {...} | None}``);
* ``{"failure": "memory" | "bug" | "error", "message": ..., "traceback": ...}``, with
  ``"exit": true`` when the process will not take another request.
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import os
import pickle
import resource
import signal
import sys
import traceback
from types import MappingProxyType
from typing import IO, Any

from jinja2 import TemplateSyntaxError

from runloom.compiler import GeneratedCodeInvalid, GraphInvalid, compile_workflow
from runloom.compiler.secret_refs import template_reads, template_strings
from runloom.worker.memory import address_space_bytes
from runloom_runtime import templates

__all__ = ["HEADER_BYTES", "main", "read_frame", "write_frame"]

HEADER_BYTES = 4
_PR_SET_PDEATHSIG = 1
# A graph that touches most of the compiler, so that the first real compilation does not
# spend its time (and its memory budget) importing the rest.
_WARM_UP = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "shape", "type": "transform", "config": {"output": "x{{ input.a ~ 'b' }}"}},
        {"id": "code", "type": "python", "config": {"code": "return 1"}},
        {"id": "end", "type": "end", "config": {"output": "{{ steps.code }}"}},
    ],
    "edges": [
        {"source": "start", "target": "shape"},
        {"source": "shape", "target": "code"},
        {"source": "code", "target": "end"},
    ],
}


def read_frame(stream: IO[bytes]) -> bytes | None:
    """One frame's body, or None at the end of the stream."""
    header = stream.read(HEADER_BYTES)
    if len(header) < HEADER_BYTES:
        return None
    body = stream.read(int.from_bytes(header, "big"))
    return body


def write_frame(stream: IO[bytes], body: bytes) -> None:
    stream.write(len(body).to_bytes(HEADER_BYTES, "big") + body)
    stream.flush()


def _die_with_parent() -> None:
    """SIGKILL this process when the API process ends: a compilation in progress would
    otherwise run on (it reads stdin, where the end shows, only between requests)."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it ended before the request was in place
        os._exit(0)


def _limit_memory(memory_mb: int) -> None:
    """Allow ``memory_mb`` MiB of address space beyond what the process uses now."""
    used = address_space_bytes()
    if used is None or memory_mb <= 0:
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = used + memory_mb * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _compile(request: dict[str, Any]) -> dict[str, Any]:
    try:
        compiled = compile_workflow(
            request["graph"],
            workflow_key=request["workflow_key"],
            version=request["version"],
            options=dataclasses.replace(
                request["options"],
                child_workflow_types=MappingProxyType(request["options"].child_workflow_types),
            ),
        )
    except GraphInvalid as err:
        return {"problems": [dataclasses.asdict(p) for p in err.problems]}
    except MemoryError:
        return {"failure": "memory", "exit": True}
    except GeneratedCodeInvalid as err:
        return {"failure": "bug", "message": str(err), "traceback": traceback.format_exc()}
    except Exception as err:
        # Whatever else the graph provoked; the pool answers it as a graph it cannot compile.
        return {
            "failure": "error",
            "message": f"{type(err).__name__}: {err}"[:2000],
            "traceback": traceback.format_exc()[-8000:],
        }
    return {"compiled": dataclasses.asdict(compiled)}


def _render(request: dict[str, Any]) -> dict[str, Any]:
    """A template rendered as a run renders it, checked as the compiler checks it first."""
    template, scope, secrets = request["render"], dict(request["scope"]), request["secrets"]
    try:
        for where, text in template_strings(template, "template"):
            try:
                templates.check_template(text)
            except TemplateSyntaxError as err:
                return {"render_error": f"{where} is invalid: {err.message} (line {err.lineno})"}
        if secrets is None:  # a preview: names, never values
            names = template_reads([("template", template)]).secrets
            secrets = {name: f"\u00absecret {name}\u00bb" for name in sorted(names)}
        value = templates.render(template, {**scope, "secrets": dict(secrets)})
    except templates.TemplateEvaluationError as err:
        return {"render_error": str(err)[:2000]}
    except MemoryError:
        return {"failure": "memory", "exit": True}
    except Exception as err:
        return {"render_error": f"{type(err).__name__}: {err}"[:2000]}
    return {"value": value}


def main(argv: list[str]) -> int:
    _die_with_parent()
    memory_mb = int(argv[1]) if len(argv) > 1 else 0
    # Replies go to the original stdout only; anything printed lands on stderr.
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    requests = sys.stdin.buffer
    compile_workflow(_WARM_UP, workflow_key="warm-up", version=1)
    _limit_memory(memory_mb)
    write_frame(replies, json.dumps({"ready": True}).encode())
    while (frame := read_frame(requests)) is not None:
        request = pickle.loads(frame)  # noqa: S301 - written by our own parent
        reply = _render(request) if "render" in request else _compile(request)
        write_frame(replies, json.dumps(reply).encode())
        if reply.get("exit"):
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
