"""What `runloom manager` runs: the project workers' manager, the execution tracker and
the schedule triggers' platform worker, on one pool and one Temporal client (``runloom
up`` runs the same)."""

from __future__ import annotations

import asyncio

from runloom.db import create_pool
from runloom.logs import configure_logging
from runloom.manager import loops
from runloom.manager import metrics as manager_metrics
from runloom.manager.handles import WorkerLaunch
from runloom.manager.notify import FailureNotifier, public_base
from runloom.manager.restart_policy import RestartPolicy
from runloom.manager.scheduled_activities import serve_schedules
from runloom.manager.secrets_source import SecretsSource
from runloom.manager.tracker import ExecutionTracker
from runloom.manager.workers import ProjectWorkerManager
from runloom.services.egress_policy import platform_egress
from runloom.services.temporal import connect, temporal_access
from runloom.settings import Settings
from runloom.tracing import setup_tracing, worker_tracing
from runloom.vault import Vault
from runloom.worker.forked import close_zygotes

__all__ = ["platform_egress", "run_manager"]


async def run_manager(
    settings: Settings,
    *,
    database_url: str,
    stop: asyncio.Event,
    manager_id: str | None = None,
    track: bool = True,
) -> None:
    """Supervise project workers (and, with ``track``, follow executions) until ``stop`` is
    set; then stop the workers (their rows end ``stopped``)."""
    # Built once, before anything starts: a key that cannot be read stops the manager
    # here, not in the middle of a run that needs a secret.
    vault = Vault.from_settings(settings)
    configure_logging(settings.runloom_log_format)
    setup_tracing(service_name="runloom-manager")  # before connecting: the client traces
    client = await connect(settings)
    pool = await create_pool(database_url, min_size=1, max_size=10, name="runloom-manager")
    try:
        manager = ProjectWorkerManager(
            pool=pool,
            client=client,
            manager_id=manager_id or settings.runloom_manager_id,
            heartbeat_s=settings.runloom_worker_heartbeat_s,
            idle_timeout_s=settings.runloom_worker_idle_timeout_s,
            backlog_poll_s=settings.runloom_worker_backlog_poll_s,
            policy=RestartPolicy(max_restarts=settings.runloom_worker_max_restarts),
            launch=WorkerLaunch(
                memory_mb=settings.runloom_worker_memory_mb,
                python_isolation=settings.runloom_python_isolation,
                egress=platform_egress(settings, database_url=database_url).to_json(),
                secrets=SecretsSource(pool=pool, vault=vault),
                zygote=settings.runloom_worker_zygote == "on",
                temporal_tls=temporal_access(settings).to_wire(),
                tracing=worker_tracing(),
                sdk_metrics=settings.runloom_manager_metrics_port > 0,
            ),
        )
        work = [
            loops.serve(manager, database_url=database_url, stop=stop),
            serve_schedules(client=client, pool=pool, settings=settings, stop=stop),
            manager_metrics.serve(settings, workers=manager.workers, pool=pool, stop=stop),
        ]
        if track:
            # Failure notices go to users' URLs: through the same guard as http nodes.
            notifier = FailureNotifier(
                pool=pool,
                policy=platform_egress(settings, database_url=database_url),
                base=public_base(settings),
            )
            tracker = ExecutionTracker(
                pool=pool, client=client, database_url=database_url, notifier=notifier
            )
            work += [tracker.run(stop), notifier.run(stop)]
        await asyncio.gather(*work)
    finally:
        close_zygotes()  # the workers are stopped: their zygote may go
        await pool.close()
