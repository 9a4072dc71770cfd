"""Tracing and JSON logs of a live stack: `runloom up` with OTEL_EXPORTER_OTLP_ENDPOINT
pointing at an in-process OTLP/HTTP collector, and RUNLOOM_LOG_FORMAT=json.

One trace must run from the HTTP request that starts a run, through the Temporal start,
the workflow in the project's worker, to the activity of its python node; and a
request's log lines must carry its request id."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from runloom.db.migrate import migrate
from runloom.stack.ports import free_port
from runloom.stack.postgres import EmbeddedPostgres
from tests.api.conftest import Api
from tests.api.graphs import transform_graph
from tests.api.helpers import new_project, new_workflow, wait_for_end
from tests.live import TEST_JWT_SECRET, LiveStack, up_env
from tests.otlp_collector import OtlpCollector, ReceivedSpan

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

ROUTE = "/api/workflows/{workflow_id}/executions"


@dataclass
class Traced:
    stack: LiveStack
    collector: OtlpCollector


@pytest.fixture(scope="module")
def traced(
    postgres_server: EmbeddedPostgres,
    temporal_env: WorkflowEnvironment,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Traced]:
    """A stack of its own (its own database: no other stack's manager may claim its
    projects and serve them untraced), exporting to a collector in this process."""
    database_url = postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}")
    migrate(database_url)
    collector = OtlpCollector().start()
    cwd = tmp_path_factory.mktemp("traced")
    port = free_port()
    env = up_env(
        DATABASE_URL=database_url,
        TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        RUNLOOM_PORT=str(port),
        RUNLOOM_DATA_DIR=str(cwd / "data"),
        RUNLOOM_WORKER_HEARTBEAT_S="1",
        RUNLOOM_JWT_SECRET=TEST_JWT_SECRET,
        RUNLOOM_LOG_FORMAT="json",
        OTEL_EXPORTER_OTLP_ENDPOINT=collector.endpoint,
        # Spans of the API and the manager leave within a second (SDK default: 5 s).
        OTEL_BSP_SCHEDULE_DELAY="500",
    )
    stack = LiveStack(env=env, port=port, cwd=cwd)
    try:
        stack.start(timeout=120)
        yield Traced(stack, collector)
    finally:
        stack.stop()
        collector.stop()


@pytest.fixture
async def api(traced: Traced) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=traced.stack.url, timeout=60) as client:
        email = f"u{uuid.uuid4().hex[:10]}@example.test"
        response = await client.post(
            "/api/auth/signup", json={"email": email, "password": "correct horse battery"}
        )
        assert response.status_code == 201, response.text
        session = response.json()
        client.headers["Authorization"] = f"Bearer {session['access_token']}"
        yield Api(client, email=email, user_id=session["user"]["id"])


def _one(spans: list[ReceivedSpan], prefix: str) -> ReceivedSpan:
    named = [s for s in spans if s.name.startswith(prefix)]
    assert len(named) == 1, (prefix, [s.name for s in spans])
    return named[0]


def _is_sql(span: ReceivedSpan) -> bool:
    return "postgresql" in (span.attributes.get("db.system"), span.attributes.get("db.system.name"))


def _tree(trace: list[ReceivedSpan]) -> str:
    """The trace as an indented tree, for failure messages."""
    children: dict[str, list[ReceivedSpan]] = {}
    for span in trace:
        children.setdefault(span.parent_id, []).append(span)
    ids = {s.span_id for s in trace}
    lines: list[str] = []

    def walk(span: ReceivedSpan, depth: int) -> None:
        if _is_sql(span):
            return  # many; they would hide the rest
        lines.append(f"{'  ' * depth}{span.name} [{span.service}]")
        for child in children.get(span.span_id, []):
            walk(child, depth + 1)

    for root in (s for s in trace if s.parent_id not in ids):
        walk(root, 0)
    return "\n".join(lines)


def _ancestors(span: ReceivedSpan, by_id: dict[str, ReceivedSpan]) -> list[str]:
    chain: list[str] = []
    while span.parent_id and span.parent_id in by_id:
        span = by_id[span.parent_id]
        chain.append(span.span_id)
    return chain


async def _trace_of_request(collector: OtlpCollector, route: str) -> list[ReceivedSpan]:
    """Every span of the trace the request span of ``route`` began, once its activity's
    span has arrived (the worker exports last)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        spans = collector.received()
        for request in (s for s in spans if s.attributes.get("http.route") == route):
            trace = [s for s in spans if s.trace_id == request.trace_id]
            if any(s.name.startswith("RunActivity:") for s in trace):
                return trace
        await asyncio.sleep(0.2)
    names = sorted({(s.service, s.name) for s in collector.received()})
    raise AssertionError(f"no complete trace of {route} within 90 s; spans seen: {names}")


async def _start(api: Api, wid: str, project_id: str) -> str:
    """Start a run once the project's worker serves: the API waits 15 s for a worker
    it asks for, which a loaded machine can exceed, so the worker is asked for first
    and the start comes when it runs, as a client would do."""
    await api.ok("POST", f"/api/projects/{project_id}/workers/start", 202)
    deadline = time.monotonic() + 120
    while True:
        workers = (await api.ok("GET", f"/api/projects/{project_id}/workers"))["workers"]
        if any(w["status"] == "running" for w in workers):
            break
        assert time.monotonic() < deadline, f"no running worker after 120 s: {workers}"
        await asyncio.sleep(0.2)
    response = await api.post(f"/api/workflows/{wid}/executions", json={"input": {"n": 3}})
    assert response.status_code == 201, response.text
    return str(response.json()["execution"]["id"])


async def test_one_trace_runs_from_the_request_through_the_workflow_to_its_activity(
    api: Api, traced: Traced
) -> None:
    project = await new_project(api, "traced")
    wid = await new_workflow(api, project["id"], transform_graph(2))
    await api.ok("POST", f"/api/workflows/{wid}/deploy", 201)
    execution_id = await _start(api, wid, project["id"])
    execution = await wait_for_end(api, execution_id, within_s=90)
    assert execution["status"] == "completed", execution

    trace = await _trace_of_request(traced.collector, ROUTE)
    by_id = {s.span_id: s for s in trace}
    request = next(s for s in trace if s.attributes.get("http.route") == ROUTE)
    start = _one(trace, "StartWorkflow:")
    workflow_type = start.name.removeprefix("StartWorkflow:")
    run = _one(trace, f"RunWorkflow:{workflow_type}")
    start_activity = _one(trace, "StartActivity:")
    run_activity = _one(trace, "RunActivity:")

    # request → start → run workflow, and the workflow's activity start → its run. The
    # SDK's TracingInterceptor ends workflow spans at once (workflow code may be replayed),
    # so what the workflow does hangs beside RunWorkflow, under the span that started it.
    tree = _tree(trace)
    assert start.parent_id == request.span_id, tree
    assert run.parent_id == start.span_id, tree
    assert start_activity.parent_id == run.parent_id, tree
    assert run_activity.parent_id == start_activity.span_id, tree
    assert start_activity.name.removeprefix("StartActivity:") == run_activity.name.removeprefix(
        "RunActivity:"
    )
    # The request's SQL, traced through psycopg_pool's connections.
    queries = [s for s in trace if _is_sql(s)]
    assert any(request.span_id in _ancestors(q, by_id) for q in queries), [s.name for s in trace]
    # Each process exports as itself; the worker learnt where to from its manager.
    assert request.service == start.service == "runloom-api"
    assert run.service == run_activity.service == "runloom-worker"
    assert run_activity.resource.get("project_id") == project["id"]


def _json_lines(log: str) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for line in log.splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines


async def _lines_with(stack: LiveStack, key: str, value: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = [line for line in _json_lines(stack.log) if line.get(key) == value]
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"no JSON log line with {key}={value!r}:\n{stack.log[-4000:]}")


async def test_a_requests_log_lines_carry_its_request_id(api: Api, traced: Traced) -> None:
    mine = f"test-{uuid.uuid4().hex}"
    response = await api.get("/api/projects", headers={"X-Request-ID": mine})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == mine
    (line,) = await _lines_with(traced.stack, "request_id", mine)
    assert line["logger"] == "runloom.api.access" and line["level"] == "INFO"
    assert line["message"].startswith("GET /api/projects 200")
    assert {"time", "level", "logger", "message"} <= line.keys()
    # Written inside the request's span: the line leads to its trace.
    assert len(line["trace_id"]) == 32

    # A value that is not a plain token is not trusted (nor logged): a new id replaces it.
    replaced = await api.get("/api/projects", headers={"X-Request-ID": "two words"})
    fresh = replaced.headers["X-Request-ID"]
    assert fresh != "two words" and len(fresh) == 32
    await _lines_with(traced.stack, "request_id", fresh)


async def test_log_lines_about_a_run_name_it(api: Api, traced: Traced) -> None:
    projects = (await api.ok("GET", "/api/projects"))["projects"]
    wid = await new_workflow(api, projects[0]["id"], transform_graph(3))
    await api.ok("POST", f"/api/workflows/{wid}/deploy", 201)
    execution_id = await _start(api, wid, projects[0]["id"])
    await api.ok("GET", f"/api/executions/{execution_id}")
    lines = await _lines_with(traced.stack, "run_id", execution_id)
    assert any(line["message"].startswith("GET /api/executions/") for line in lines)
