"""What a manager keeps of each worker it owns, and how stored code becomes a bundle."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from runloom.manager.secrets_source import SecretsSource
from runloom.manager.supervisor import SecretsReader, Supervisor
from runloom.models import WorkerStatus
from runloom.store import code
from runloom.tracing import WorkerTracing
from runloom.worker import protocol

__all__ = ["ManagedWorker", "WorkerLaunch", "WorkerView", "bundle_entries"]


@dataclass(frozen=True, slots=True)
class WorkerView:
    """A worker this manager owns, as callers see it."""

    project_id: UUID
    worker_id: str
    status: WorkerStatus
    process_id: int | None
    loaded: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WorkerLaunch:
    """How this manager starts worker processes."""

    memory_mb: int = 1024
    python: str | None = None
    graceful_shutdown_s: float = 30.0
    start_timeout_s: float = 30.0
    python_isolation: str = "on"
    egress: Mapping[str, Any] = field(default_factory=dict)
    # Answers workers' requests for their project's secrets (None: none are served).
    secrets: SecretsSource | None = None
    # Fork workers from a warm zygote (runloom.worker.zygote) rather than exec each one.
    zygote: bool = True
    # TemporalAccess.to_wire() for workers' Temporal connection (None: plain, no key).
    temporal_tls: Mapping[str, Any] | None = field(default=None, repr=False)
    # Where workers send their spans (None: tracing is off).
    tracing: WorkerTracing | None = None
    # Workers serve the Temporal SDK's metrics for this manager's metrics endpoint.
    sdk_metrics: bool = False

    def secrets_reader(self, project_id: UUID) -> SecretsReader | None:
        return None if self.secrets is None else self.secrets.reader(project_id)


@dataclass(eq=False)
class ManagedWorker:
    """A worker process this manager started, and its registry row."""

    project_id: UUID
    task_queue: str
    worker_id: str
    row_id: UUID
    python_network: bool = False
    temporal_namespace: str | None = None  # None: the shared TEMPORAL_NAMESPACE
    supervisor: Supervisor | None = None
    status: WorkerStatus = "starting"
    loaded: tuple[str, ...] = ()
    code_ids: frozenset[UUID] = frozenset()
    stopping: bool = False
    silent: bool = False
    started_at: float = field(default_factory=time.monotonic)
    last_busy: float = field(default_factory=time.monotonic)

    def view(self) -> WorkerView:
        return WorkerView(
            project_id=self.project_id,
            worker_id=self.worker_id,
            status=self.status,
            process_id=self.supervisor.pid if self.supervisor else None,
            loaded=self.loaded,
        )


def bundle_entries(
    project_id: UUID, bundle: list[code.CodeBundleEntry]
) -> tuple[protocol.BundleEntry, ...]:
    return tuple(
        protocol.BundleEntry(
            module=entry.module_base(project_id),
            workflow_type=entry.workflow_type,
            version=entry.version,
            workflow_code=entry.workflow_code,
            activities_code=entry.activities_code,
        )
        for entry in bundle
    )


class WantedVersions:
    """Older versions someone asked to start (a re-run on v1, a start with ``version``),
    served beside the project's current code: the last few per project, so that a version
    asked for stays loaded until its run is open (then open runs keep it)."""

    KEEP = 8

    def __init__(self) -> None:
        self._types: dict[UUID, list[str]] = {}

    def add(self, project_id: UUID, workflow_type: str | None) -> None:
        if workflow_type is None:
            return
        kept = [t for t in self._types.get(project_id, []) if t != workflow_type]
        self._types[project_id] = [*kept, workflow_type][-self.KEEP :]

    def of(self, project_id: UUID) -> set[str]:
        return set(self._types.get(project_id, []))
