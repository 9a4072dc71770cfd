"""Fixtures for compiler tests: run compiled graphs on the real dev server."""

from __future__ import annotations

import itertools
import json
import threading
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from runloom.compiler import CompiledWorkflow
from runloom.worker.loader import load_compiled
from runloom_runtime import egress
from runloom_runtime.egress import EgressPolicy


def module_base(compiled: CompiledWorkflow, run_id: str) -> str:
    key = compiled.workflow_key.replace("-", "_")
    return f"runloom_code.p_{run_id}.w_{key}.v{compiled.version}"


@asynccontextmanager
async def serving(client: Client, *compiled: CompiledWorkflow) -> AsyncIterator[str]:
    """Load compiled versions through the loader and serve them on a fresh task queue."""
    run_id = uuid.uuid4().hex[:12]
    workflows: list[type] = []
    activities: list[Any] = []
    for item in compiled:
        base = module_base(item, run_id)
        loaded = load_compiled(
            workflow_module=f"{base}.workflow",
            workflow_code=item.workflow_code,
            activities_module=f"{base}.activities",
            activities_code=item.activities_code,
        )
        workflows.extend(loaded.workflows)
        activities.extend(loaded.activities)
    task_queue = f"tq-{run_id}"
    async with Worker(client, task_queue=task_queue, workflows=workflows, activities=activities):
        yield task_queue


async def start(
    client: Client, compiled: CompiledWorkflow, task_queue: str, payload: Any = None
) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        compiled.workflow_type,
        {} if payload is None else payload,
        id=f"wf-{uuid.uuid4().hex}",
        task_queue=task_queue,
    )


@dataclass
class FakeService:
    """A tiny HTTP server on 127.0.0.1; `fail_first[path]` answers 500 that many times."""

    url: str
    hits: dict[str, int] = field(default_factory=dict)
    fail_first: dict[str, int] = field(default_factory=dict)
    bodies: list[Any] = field(default_factory=list)


@pytest.fixture
def fake_service() -> Iterator[FakeService]:
    lock = threading.Lock()
    service = FakeService(url="")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            with lock:
                count = service.hits.get(self.path, 0) + 1
                service.hits[self.path] = count
                if raw:
                    service.bodies.append(json.loads(raw))
                failing = count <= service.fail_first.get(self.path, 0)
            status = 500 if failing else 200
            body = json.dumps(
                {
                    "path": self.path,
                    "hit": count,
                    "method": self.command,
                    "echo": self.headers.get("x-echo"),
                }
            ).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    service.url = f"http://127.0.0.1:{port}"
    # http nodes refuse loopback unless the operator allows it: this test's service is.
    egress.configure(EgressPolicy(allow=(f"127.0.0.1:{port}",)))
    try:
        yield service
    finally:
        egress.configure(None)
        server.shutdown()
        server.server_close()
        thread.join()


def graph(
    nodes: Sequence[Mapping[str, Any]], edges: Sequence[tuple[str, str] | tuple[str, str, str]]
) -> dict[str, Any]:
    """Build a graph document from nodes and (source, target[, branch]) tuples."""
    return {
        "nodes": [dict(n) for n in nodes],
        "edges": [
            {"source": e[0], "target": e[1], **({"branch": e[2]} if len(e) == 3 else {})}
            for e in edges
        ],
    }


def chain(*nodes: Mapping[str, Any], end_output: Any = None) -> dict[str, Any]:
    """start -> nodes... -> end."""
    all_nodes = [
        {"id": "start", "type": "start"},
        *nodes,
        {"id": "end", "type": "end", "config": {"output": end_output}},
    ]
    ids = [n["id"] for n in all_nodes]
    return graph(all_nodes, list(itertools.pairwise(ids)))
