"""What a project's worker process is told when it starts.

A worker learns everything at start from its manager over the pipe: its project (the
handle), its code (the bundle) and how this manager launches workers
(:class:`~runloom.manager.handles.WorkerLaunch`). A new setting for workers is a field on
``WorkerLaunch`` and one argument here.
"""

from __future__ import annotations

from temporalio.client import Client

from runloom.manager import worker_metrics
from runloom.manager.handles import ManagedWorker, WorkerLaunch, bundle_entries
from runloom.store import code
from runloom.worker import protocol

__all__ = ["start_message"]


def start_message(
    *,
    launch: WorkerLaunch,
    handle: ManagedWorker,
    bundle: list[code.CodeBundleEntry],
    client: Client,
    host: str,
    heartbeat_s: float,
) -> protocol.Start:
    config = client.service_client.config
    return protocol.Start(
        task_queue=handle.task_queue,
        temporal_address=config.target_host,
        temporal_namespace=handle.temporal_namespace or client.namespace,
        identity=f"{handle.worker_id}@{host}",
        heartbeat_s=heartbeat_s,
        graceful_shutdown_s=launch.graceful_shutdown_s,
        bundle=bundle_entries(handle.project_id, bundle),
        python_isolation=launch.python_isolation,
        python_network=handle.python_network,
        egress=dict(launch.egress),
        temporal_tls=dict(launch.temporal_tls) if launch.temporal_tls is not None else None,
        tracing=launch.tracing.for_project(handle.project_id) if launch.tracing else None,
        metrics=worker_metrics.start_field(handle, enabled=launch.sdk_metrics),
    )
