"""OpenTelemetry tracing, on only where an OTLP endpoint is configured.

The standard variables decide: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) turns it on, ``OTEL_EXPORTER_OTLP_HEADERS`` and
``OTEL_SERVICE_NAME`` are honoured as the SDK honours them. Spans leave over OTLP/HTTP
(protobuf). Unset, nothing of OpenTelemetry is imported and every helper here is a no-op,
so the hot path pays nothing.

Project workers get a scrubbed environment: their manager sends them a
:class:`WorkerTracing` (endpoint, headers, resource attributes) in the ``Start`` message,
and :func:`install_worker_tracing` sets them up from it.

Stdlib-only at import: the API, the manager and the worker process all import it.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

__all__ = [
    "WorkerTracing",
    "client_interceptors",
    "current_trace_id",
    "enabled",
    "install_worker_tracing",
    "instrument_api",
    "setup_tracing",
    "shutdown_tracing",
    "span",
    "traces_endpoint",
    "worker_tracing",
]

ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"
TRACES_ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
WORKER_SERVICE_NAME = "runloom-worker"
# Spans of a worker leave within this many milliseconds (the SDK's default is 5 s): a
# worker may be stopped (idle, reload) soon after the activity that made them.
_WORKER_EXPORT_DELAY_MS = 200

_lock = threading.Lock()
_provider: TracerProvider | None = None
_api_instrumented = False


@dataclass(frozen=True, slots=True)
class WorkerTracing:
    """Where a project worker sends its spans, as its manager tells it."""

    endpoint: str
    service_name: str = WORKER_SERVICE_NAME
    # Often carry a collector's credentials: kept out of reprs and logs.
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    attributes: Mapping[str, str] = field(default_factory=dict)

    def for_project(self, project_id: object) -> dict[str, Any]:
        """``Start.tracing`` of one project's worker: its spans name the project."""
        return {**self.to_json(), "attributes": {**self.attributes, "project_id": str(project_id)}}

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "service_name": self.service_name,
            "headers": dict(self.headers),
            "attributes": dict(self.attributes),
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> WorkerTracing:
        return cls(
            endpoint=str(document["endpoint"]),
            service_name=str(document.get("service_name") or WORKER_SERVICE_NAME),
            headers={str(k): str(v) for k, v in (document.get("headers") or {}).items()},
            attributes={str(k): str(v) for k, v in (document.get("attributes") or {}).items()},
        )


def traces_endpoint(environ: Mapping[str, str] | None = None) -> str | None:
    """The URL spans are posted to, resolved as the OTLP/HTTP exporter resolves it; None
    when tracing is off."""
    env = os.environ if environ is None else environ
    explicit = env.get(TRACES_ENDPOINT_ENV, "").strip()
    if explicit:
        return explicit
    base = env.get(ENDPOINT_ENV, "").strip()
    return f"{base.rstrip('/')}/v1/traces" if base else None


def enabled() -> bool:
    """Whether this process installed a tracer provider."""
    return _provider is not None


def setup_tracing(*, service_name: str) -> bool:
    """Install a tracer provider exporting to the configured endpoint, once per process;
    False (and nothing imported) when no endpoint is configured."""
    if traces_endpoint() is None:
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    # No arguments: the exporter reads endpoint, headers, timeout and certificate from
    # the OTEL_EXPORTER_OTLP_* variables exactly as the SDK documents.
    name = os.environ.get("OTEL_SERVICE_NAME") or service_name
    _install(OTLPSpanExporter(), service_name=name, attributes={}, delay_ms=None)
    return True


def install_worker_tracing(document: Mapping[str, Any] | None) -> list[Any]:
    """Set up a worker's tracing from its ``Start.tracing``; the Temporal worker
    interceptors to use (none when the manager sent no tracing)."""
    if not document:
        return []
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    config = WorkerTracing.from_json(document)
    exporter = OTLPSpanExporter(endpoint=config.endpoint, headers=dict(config.headers))
    _install(
        exporter,
        service_name=config.service_name,
        attributes=config.attributes,
        delay_ms=_WORKER_EXPORT_DELAY_MS,
    )
    return client_interceptors()


def _install(
    exporter: SpanExporter,
    *,
    service_name: str,
    attributes: Mapping[str, str],
    delay_ms: int | None,
) -> None:
    global _provider
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    with _lock:
        if _provider is not None:
            return  # `up` runs the API and the manager in one process: one provider
        provider = TracerProvider(
            resource=Resource.create({**attributes, "service.name": service_name})
        )
        if delay_ms is None:
            processor = BatchSpanProcessor(exporter)
        else:
            processor = BatchSpanProcessor(exporter, schedule_delay_millis=delay_ms)
        provider.add_span_processor(processor)
        trace.set_tracer_provider(provider)
        _provider = provider


def worker_tracing() -> WorkerTracing | None:
    """Where this manager's workers send spans: this process's endpoint and headers
    (workers see none of its environment); None when tracing is off."""
    endpoint = traces_endpoint()
    if endpoint is None:
        return None
    from opentelemetry.util.re import parse_env_headers

    raw = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS") or os.environ.get(
        "OTEL_EXPORTER_OTLP_HEADERS", ""
    )
    return WorkerTracing(endpoint=endpoint, headers=parse_env_headers(raw, liberal=True))


def client_interceptors() -> list[Any]:
    """Interceptors for a Temporal client (or worker): starting a workflow carries the
    current trace in its headers, and workers continue it. Empty when tracing is off."""
    if _provider is None:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


def instrument_api(app: FastAPI) -> None:
    """Trace the API's requests and its SQL (psycopg, also through psycopg_pool);
    nothing when tracing is off. Before the pool opens: only connections made after
    this are traced."""
    global _api_instrumented
    if not setup_tracing(service_name="runloom-api"):
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    FastAPIInstrumentor.instrument_app(app)
    with _lock:
        if not _api_instrumented:
            PsycopgInstrumentor().instrument()
            _api_instrumented = True


@contextlib.contextmanager
def span(name: str, **attributes: str) -> Iterator[None]:
    """A span of this process's own work (a no-op when tracing is off)."""
    if _provider is None:
        yield
        return
    from opentelemetry import trace

    with trace.get_tracer("runloom").start_as_current_span(name, attributes=attributes):
        yield


def current_trace_id() -> str | None:
    """The trace the current code runs in (32 hex digits), for log lines; None when
    tracing is off or no span is current."""
    if _provider is None:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def shutdown_tracing() -> None:
    """Export what is still buffered; for a process about to exit."""
    if _provider is not None:
        _provider.shutdown()
