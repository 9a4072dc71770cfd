"""What `runloom manager` runs: the project workers' manager, the execution tracker and
the schedule triggers' platform worker, on one pool and one Temporal client (``runloom
up`` runs the same)."""

from __future__ import annotations

import asyncio

from runloom.db import create_pool
from runloom.manager import loops
from runloom.manager.handles import WorkerLaunch
from runloom.manager.notify import FailureNotifier, public_base
from runloom.manager.restart_policy import RestartPolicy
from runloom.manager.scheduled_activities import serve_schedules
from runloom.manager.secrets_source import SecretsSource
from runloom.manager.tracker import ExecutionTracker
from runloom.manager.workers import ProjectWorkerManager
from runloom.services.egress_policy import platform_egress
from runloom.services.temporal import connect
from runloom.settings import Settings
from runloom.vault import Vault

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
    client = await connect(settings)
    pool = await create_pool(database_url, min_size=1, max_size=10, name="runloom-manager")
    try:
        manager = ProjectWorkerManager(
            pool=pool,
            client=client,
            manager_id=manager_id,
            heartbeat_s=settings.runloom_worker_heartbeat_s,
            idle_timeout_s=settings.runloom_worker_idle_timeout_s,
            backlog_poll_s=settings.runloom_worker_backlog_poll_s,
            policy=RestartPolicy(max_restarts=settings.runloom_worker_max_restarts),
            launch=WorkerLaunch(
                memory_mb=settings.runloom_worker_memory_mb,
                python_isolation=settings.runloom_python_isolation,
                egress=platform_egress(settings, database_url=database_url).to_json(),
                secrets=SecretsSource(pool=pool, vault=vault),
            ),
        )
        work = [
            loops.serve(manager, database_url=database_url, stop=stop),
            serve_schedules(client=client, pool=pool, settings=settings, stop=stop),
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
        await pool.close()
