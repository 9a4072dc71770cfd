"""runloom.tracing without a collector: off unless an endpoint is configured, and what a
manager tells its workers."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

from runloom.tracing import WorkerTracing, traces_endpoint
from runloom.worker import protocol

_PROBE = """
import json, sys
from runloom.settings import Settings
from runloom.api.app import create_app
from runloom import tracing
HEAVY = (
    "opentelemetry.sdk",
    "opentelemetry.exporter",
    "opentelemetry.instrumentation",
    "temporalio.contrib.opentelemetry",
)
installed = tracing.setup_tracing(service_name="probe")
app = create_app(Settings(), database_url="postgresql://unused")
print(json.dumps({
    "installed": installed,
    "enabled": tracing.enabled(),
    "interceptors": len(tracing.client_interceptors()),
    "worker": tracing.worker_tracing() is not None,
    # FastAPI imports the OpenTelemetry API by itself; the SDK, the exporter, the
    # instrumentations and Temporal's interceptor are what tracing would add.
    "otel_modules": sorted(m for m in sys.modules if m.startswith(HEAVY)),
    "provider_set": getattr(sys.modules.get("opentelemetry.trace"), "_TRACER_PROVIDER", None)
    is not None,
    "resource": (
        dict(tracing._provider.resource.attributes) if tracing._provider is not None else None
    ),
}))
"""


def _probe(**env: str) -> dict[str, object]:
    # A fresh interpreter: whether anything of OpenTelemetry got imported is per process.
    clean = {"PATH": "/usr/bin:/bin", "RUNLOOM_DATA_DIR": "/nonexistent-runloom", **env}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], env=clean, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_without_an_endpoint_nothing_is_installed_or_imported() -> None:
    probe = _probe()
    assert probe == {
        "installed": False,
        "enabled": False,
        "interceptors": 0,
        "worker": False,
        "otel_modules": [],
        "provider_set": False,
        "resource": None,
    }


def test_with_an_endpoint_a_provider_and_the_temporal_interceptor_are_installed() -> None:
    # Nothing listens there and no span is made: nothing is sent.
    probe = _probe(OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:9", OTEL_SERVICE_NAME="mine")
    assert probe["installed"] is True and probe["enabled"] is True
    assert probe["interceptors"] == 1 and probe["worker"] is True
    assert probe["provider_set"] is True
    resource = probe["resource"]
    assert isinstance(resource, dict) and resource["service.name"] == "mine"


def test_the_endpoint_is_resolved_as_the_exporter_resolves_it() -> None:
    assert traces_endpoint({}) is None
    assert traces_endpoint({"OTEL_EXPORTER_OTLP_ENDPOINT": " "}) is None
    base = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"}
    assert traces_endpoint(base) == "http://collector:4318/v1/traces"
    explicit = {**base, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://other/traces"}
    assert traces_endpoint(explicit) == "http://other/traces"


def test_a_workers_tracing_names_its_project_and_survives_the_pipe() -> None:
    project_id = uuid.uuid4()
    base = WorkerTracing(endpoint="http://c/v1/traces", headers={"authorization": "Bearer s3"})
    document = base.for_project(project_id)
    start = protocol.Start(
        task_queue="q",
        temporal_address="127.0.0.1:7233",
        temporal_namespace="default",
        identity="w",
        heartbeat_s=1,
        graceful_shutdown_s=1,
        bundle=(),
        tracing=document,
    )
    decoded = protocol.decode(protocol.encode(start))
    assert isinstance(decoded, protocol.Start)
    config = WorkerTracing.from_json(decoded.tracing or {})
    assert config.service_name == "runloom-worker"
    assert config.attributes == {"project_id": str(project_id)}
    assert config.headers == {"authorization": "Bearer s3"}
    # A collector's credentials never reach a log through a repr.
    assert "s3" not in repr(config) and "s3" not in repr(decoded)


def test_an_older_start_without_tracing_still_decodes() -> None:
    line = protocol.encode(
        protocol.Start(
            task_queue="q",
            temporal_address="127.0.0.1:7233",
            temporal_namespace="default",
            identity="w",
            heartbeat_s=1,
            graceful_shutdown_s=1,
            bundle=(),
        )
    )
    document = json.loads(line)
    del document["tracing"]
    decoded = protocol.decode(json.dumps(document))
    assert isinstance(decoded, protocol.Start) and decoded.tracing is None
