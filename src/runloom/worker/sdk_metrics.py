"""The worker's Temporal runtime, exporting the SDK's own metrics when its manager asks.

One runtime per process (its exporter owns the port), shared by every client the worker
opens across reloads. A port that cannot be bound costs the metrics, never the worker:
the project keeps running, and the manager's scrape of it finds nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

__all__ = ["metrics_runtime"]


def metrics_runtime(config: Mapping[str, str] | None) -> Runtime | None:
    """A runtime serving Prometheus metrics where ``config`` says; None for the default."""
    bind = (config or {}).get("prometheus_bind")
    if not bind:
        return None
    try:
        # Seconds and `_total`, as Prometheus names them, like the manager's own metrics.
        metrics = PrometheusConfig(
            bind_address=bind, durations_as_seconds=True, counters_total_suffix=True
        )
        return Runtime(telemetry=TelemetryConfig(metrics=metrics))
    except Exception as exc:  # the SDK raises a bare RuntimeError for a taken port
        print(f"runloom worker: SDK metrics not served on {bind}: {exc}", file=sys.stderr)
        return None
