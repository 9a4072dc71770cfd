"""The long-running manager: ``runloom manager`` runs it alone, ``runloom up`` in-process."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from runloom.db import create_pool
from runloom.settings import Settings
from runloom.temporal.connection import TemporalUnavailableError
from runloom.temporal.worker_manager import ProjectWorkerManager

__all__ = ["run_manager"]


async def run_manager(
    settings: Settings,
    *,
    database_url: str,
    stop: asyncio.Event,
    manager_id: str | None = None,
) -> None:
    """Supervise project workers until ``stop`` is set; then stop them (rows ``stopped``)."""
    try:
        client = await Client.connect(
            settings.temporal_address, namespace=settings.temporal_namespace
        )
    except Exception as exc:
        raise TemporalUnavailableError(
            f"cannot connect to Temporal at {settings.temporal_address}: {exc}"
        ) from exc
    pool = await create_pool(database_url, min_size=1, max_size=5, name="runloom-manager")
    try:
        manager = ProjectWorkerManager(
            pool=pool,
            client=client,
            database_url=database_url,
            manager_id=manager_id,
            heartbeat_s=settings.runloom_worker_heartbeat_s,
            idle_timeout_s=settings.runloom_worker_idle_timeout_s,
            memory_mb=settings.runloom_worker_memory_mb,
            backlog_poll_s=settings.runloom_worker_backlog_poll_s,
            max_restarts=settings.runloom_worker_max_restarts,
        )
        await manager.serve(stop)
    finally:
        await pool.close()
