"""``GET /metrics``: the API's Prometheus endpoint.

Two kinds of figures. What only this process sees (live streams open, its database pool,
quota refusals, request durations) is read from memory. What the whole installation
shares (runs started and ended by project, workers by state) is read from the database
at scrape time, with two aggregate queries over small tables, and kept for a second so
that a storm of scrapes costs one read: the manager and the tracker run in processes of
their own, so this process's memory could not know them. Access: see
:mod:`runloom.services.metrics_access`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runloom.api.state import AppState
from runloom.db.session import service_session
from runloom.services.counters import QUOTA_REFUSALS
from runloom.services.metrics_access import refusal
from runloom.store import metrics as store
from runloom.store.metrics import RunCount

__all__ = ["ApiMetrics", "mount", "router"]

log = logging.getLogger(__name__)

# The states a project's current worker can be in; each is exposed, at zero if none.
WORKER_STATES = ("starting", "running", "stopping", "stopped", "idle", "crashed")
_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

router = APIRouter()


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the database said at one scrape."""

    runs: list[RunCount] = field(default_factory=list)
    workers: dict[str, int] = field(default_factory=dict)
    ok: bool = True


class StateCollector(Collector):
    """The figures of the last snapshot, and this process's live ones."""

    def __init__(self) -> None:
        self.snapshot = Snapshot(ok=False)
        self.state: AppState | None = None

    def collect(self) -> Iterator[Metric]:
        yield from run_families(self.snapshot)
        up = GaugeMetricFamily(
            "runloom_metrics_database_up", "1 if the last scrape could read the database."
        )
        up.add_metric([], 1.0 if self.snapshot.ok else 0.0)
        yield up
        if self.state is not None:
            yield from process_families(self.state)


def run_families(snapshot: Snapshot) -> Iterator[Metric]:
    started = CounterMetricFamily(
        "runloom_runs_started",
        "Runs started, by project and by what started them.",
        labels=["project_id", "trigger"],
    )
    ended = CounterMetricFamily(
        "runloom_runs_ended",
        "Runs recorded as ended, by project, status and what started them.",
        labels=["project_id", "status", "trigger"],
    )
    for row in snapshot.runs:
        if row.event == "started":
            started.add_metric([str(row.project_id), row.triggered_by], row.count)
        else:
            ended.add_metric([str(row.project_id), row.event, row.triggered_by], row.count)
    workers = GaugeMetricFamily(
        "runloom_workers",
        "Projects by the state of their current worker (all managers).",
        labels=["state"],
    )
    for state in WORKER_STATES:
        workers.add_metric([state], snapshot.workers.get(state, 0))
    yield from (started, ended, workers)


def process_families(state: AppState) -> Iterator[Metric]:
    streams = GaugeMetricFamily("runloom_live_streams", "Live run streams open in this process.")
    streams.add_metric([], state.live.open_streams)
    stats = state.pool.get_stats()
    size, idle = stats.get("pool_size", 0), stats.get("pool_available", 0)
    pool = GaugeMetricFamily(
        "runloom_db_pool_connections",
        "Connections of this process's database pool: in use, idle, and requests waiting.",
        labels=["state"],
    )
    pool.add_metric(["in_use"], size - idle)
    pool.add_metric(["idle"], idle)
    pool.add_metric(["waiting"], stats.get("requests_waiting", 0))
    limit = GaugeMetricFamily("runloom_db_pool_max", "The most connections the pool may hold.")
    limit.add_metric([], state.pool.max_size)
    yield from (streams, pool, limit)


class ApiMetrics:
    """The registry of one app, and its cached read of the database."""

    def __init__(self, *, cache_s: float = 1.0) -> None:
        self.cache_s = cache_s
        self.registry = CollectorRegistry(auto_describe=False)
        self.collector = StateCollector()
        self.requests = Histogram(
            "runloom_http_request_duration_seconds",
            "HTTP requests by method, route template and status code.",
            ["method", "route", "status"],
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )
        for collector in (
            self.collector,
            QUOTA_REFUSALS,
            PROCESS_COLLECTOR,
            PLATFORM_COLLECTOR,
            GC_COLLECTOR,
        ):
            self.registry.register(collector)
        self._read_at = float("-inf")
        self._lock = asyncio.Lock()

    async def scrape(self, state: AppState) -> bytes:
        self.collector.state = state
        async with self._lock:  # concurrent scrapes wait for one read
            if time.monotonic() - self._read_at >= self.cache_s:
                self.collector.snapshot = await _read(state)
                self._read_at = time.monotonic()
        return generate_latest(self.registry)


async def _read(state: AppState) -> Snapshot:
    try:
        async with service_session(state.pool) as conn:
            return Snapshot(
                runs=await store.run_counts(conn), workers=await store.worker_states(conn)
            )
    except (psycopg.Error, OSError) as exc:
        # The process's own figures are still worth serving; `database_up` says why the
        # rest is missing.
        log.warning("metrics: cannot read the database: %r", exc)
        return Snapshot(ok=False)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    state: AppState = request.app.state.runloom
    refused = refusal(state.settings, request.headers.get("authorization"))
    if refused is not None:
        headers = {"WWW-Authenticate": "Bearer"} if refused.status == 401 else None
        return JSONResponse({"detail": refused.message}, refused.status, headers=headers)
    body = await request.app.state.metrics.scrape(state)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


class RequestTimer:
    """Times each HTTP request under its route template (``/api/workflows/{id}``), never
    its path, so that ids do not become series."""

    def __init__(self, app: ASGIApp, *, histogram: Histogram) -> None:
        self.app = app
        self.histogram = histogram

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.histogram.labels(scope["method"], route_template(scope), str(status[0])).observe(
                time.perf_counter() - began
            )


def route_template(scope: Scope) -> str:
    """The matched route's template under the prefix it was included with: FastAPI keeps
    the route's own path (``/workflows/{id}``), the prefix is the request path's head."""
    route: Any = scope.get("route")
    template = str(getattr(route, "path", None) or "")
    if not template:
        return "unmatched"
    if ":path}" in template:  # a parameter spanning segments: the head is not the prefix
        return template
    segments = str(scope.get("path", "")).split("/")
    depth = template.rstrip("/").count("/")
    return "/".join(segments[: len(segments) - depth]) + template if depth else template


def mount(app: FastAPI) -> None:
    """Serve ``GET /metrics`` on ``app`` (before the UI's catch-all)."""
    app.state.metrics = ApiMetrics()
    app.add_middleware(RequestTimer, histogram=app.state.metrics.requests)
    app.include_router(router)
