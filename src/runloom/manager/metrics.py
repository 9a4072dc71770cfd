"""The manager's own Prometheus endpoint (``RUNLOOM_MANAGER_METRICS_PORT``, 0: off).

What only a manager sees is observed here, in its process: how long runs and their steps
took and how long after their end the tracker recorded them (at the one place the tracker
records an end), its workers' restarts and states, and failure notices. Its project
workers' own Temporal SDK metrics are appended, labelled with their project
(:mod:`runloom.manager.worker_metrics`). The endpoint is a small asyncio server in the
manager's loop: it reads the manager's workers where they live, without threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from temporalio.api.history.v1 import HistoryEvent

from runloom.db.pool import Pool
from runloom.manager import worker_metrics
from runloom.manager.handles import WorkerView
from runloom.manager.statistics import activity_runs
from runloom.services import outcome as outcomes
from runloom.services.metrics_access import refusal
from runloom.services.outcome import Outcome
from runloom.services.run_history import RunHistory
from runloom.settings import Settings
from runloom.store.executions import FinishedRun

__all__ = ["REGISTRY", "notice_result", "run_recorded", "serve", "worker_restarted"]

log = logging.getLogger(__name__)

# One registry per process: the tracker and the notifier observe into it, whatever
# manager object they belong to.
REGISTRY = CollectorRegistry(auto_describe=False)
_RUN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
_LAG_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)

RUN_DURATION = Histogram(
    "runloom_run_duration_seconds",
    "Duration of recorded runs (Temporal start to close), by project and status.",
    ["project_id", "status"],
    buckets=_RUN_BUCKETS,
    registry=REGISTRY,
)
STEP_DURATION = Histogram(
    "runloom_step_duration_seconds",
    "Duration of each step (activity) of recorded runs, by project and status.",
    ["project_id", "status"],
    buckets=_RUN_BUCKETS,
    registry=REGISTRY,
)
TRACKING_LAG = Histogram(
    "runloom_tracking_lag_seconds",
    "From a run's close in Temporal to the tracker recording it.",
    buckets=_LAG_BUCKETS,
    registry=REGISTRY,
)
RESTARTS = Counter(
    "runloom_worker_restarts",
    "Worker processes started again after one crashed, by project.",
    ["project_id"],
    registry=REGISTRY,
)
NOTICES = Counter(
    "runloom_failure_notices",
    "Failure notices to projects' webhooks, by result (sent, failed).",
    ["result"],
    registry=REGISTRY,
)


def run_recorded(
    run: FinishedRun,
    outcome: Outcome,
    *,
    description: RunHistory,  # the tracker reads start and close times from the history
    events: Sequence[HistoryEvent],
) -> None:
    """The tracker recorded a run's end (once per run; ``events``: its history)."""
    project = str(run.project_id)
    now = datetime.now(UTC)
    finished = description.close_time or now
    duration_s = max(0.0, (finished - description.start_time).total_seconds())
    RUN_DURATION.labels(project, outcome.status).observe(duration_s)
    history = list(events)
    for step in activity_runs(history, closed_after=outcomes.last_reset_event_id(history)):
        status = "completed" if step.success else "failed"
        STEP_DURATION.labels(project, status).observe(step.duration_ms / 1000)
    if description.close_time is not None:
        TRACKING_LAG.observe(max(0.0, (now - description.close_time).total_seconds()))


def worker_restarted(project_id: UUID) -> None:
    RESTARTS.labels(str(project_id)).inc()


def notice_result(*, sent: bool) -> None:
    NOTICES.labels("sent" if sent else "failed").inc()


Workers = Callable[[], list[WorkerView]]


def workers_family(views: Sequence[WorkerView]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "runloom_manager_workers", "This manager's worker processes by state.", labels=["state"]
    )
    states = ("starting", "running", "stopping", "stopped", "failed")
    for state in states:
        family.add_metric([state], sum(1 for view in views if view.status == state))
    return family


class _Workers(Collector):
    def __init__(self, views: Sequence[WorkerView]) -> None:
        self.views = views

    def collect(self) -> Iterator[Metric]:
        yield workers_family(self.views)


async def exposition(workers: Workers) -> bytes:
    """The whole answer: this process's metrics, then its live workers' SDK metrics."""
    views = workers()
    gauge = CollectorRegistry(auto_describe=False)
    gauge.register(_Workers(views))
    sdk = await worker_metrics.scrape(views)
    return generate_latest(REGISTRY) + generate_latest(gauge) + sdk.encode()


async def serve(settings: Settings, *, workers: Workers, pool: Pool, stop: asyncio.Event) -> None:
    """Serve ``GET /metrics`` on the configured address until ``stop``; nothing when the
    port is 0. A port in use is logged, not fatal: metrics never stop a manager."""
    port = settings.runloom_manager_metrics_port
    if port == 0:
        return

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await _answer(reader, writer, settings=settings, workers=workers)
        except (
            OSError,
            TimeoutError,
            ValueError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
        ):
            pass  # a client that went away or spoke nonsense
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    ports = asyncio.create_task(
        worker_metrics.record_ports(pool, on_restart=worker_restarted, stop=stop)
    )
    host = settings.runloom_manager_metrics_host
    try:
        server = await asyncio.start_server(handle, host, port)
    except OSError as exc:
        log.error(
            "manager metrics not served: cannot listen on %s:%d (%s); "
            "set RUNLOOM_MANAGER_METRICS_PORT to a free port",
            host,
            port,
            exc,
        )
        server = None
    try:
        if server is None:
            await stop.wait()
        else:
            async with server:
                await stop.wait()
    finally:
        ports.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ports


async def _answer(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    *,
    settings: Settings,
    workers: Workers,
) -> None:
    async with asyncio.timeout(10):
        request = await reader.readuntil(b"\r\n\r\n")
    lines = request.decode("latin-1").split("\r\n")
    method, path, *_ = [*lines[0].split(" "), "", ""]
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines[1:] if line)
    }
    if method != "GET" or path.split("?")[0] != "/metrics":
        _respond(writer, 404, b"not found: the manager serves GET /metrics only\n")
    elif (refused := refusal(settings, headers.get("authorization"))) is not None:
        extra = {"WWW-Authenticate": "Bearer"} if refused.status == 401 else {}
        _respond(writer, refused.status, refused.message.encode() + b"\n", extra)
    else:
        body = await exposition(workers)
        _respond(writer, 200, body, {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})
    await writer.drain()


_REASONS = {200: "OK", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}


def _respond(
    writer: asyncio.StreamWriter, status: int, body: bytes, headers: dict[str, Any] | None = None
) -> None:
    head = [f"HTTP/1.1 {status} {_REASONS[status]}", f"Content-Length: {len(body)}"]
    head += [f"{name}: {value}" for name, value in (headers or {}).items()]
    head += ["Connection: close", "", ""]
    writer.write("\r\n".join(head).encode() + body)
