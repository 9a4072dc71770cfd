"""What a manager does with what its workers report: readiness, heartbeats, node states."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from runloom.db import service_session
from runloom.manager.handles import ManagedWorker
from runloom.manager.supervisor import Reported
from runloom.services import live_events
from runloom.store import registry
from runloom.worker import protocol

if TYPE_CHECKING:
    from runloom.manager.workers import ProjectWorkerManager

__all__ = ["on_message"]

log = logging.getLogger(__name__)


async def on_message(
    manager: ProjectWorkerManager, handle: ManagedWorker, message: Reported
) -> None:
    if isinstance(message, protocol.NodeStates):
        await live_events.publish(manager.pool, live_events.events_of_changes(message.changes))
        return
    if isinstance(message, protocol.Ready):
        handle.loaded = message.loaded
        handle.status = "running"
        async with service_session(manager.pool) as conn:
            await registry.mark_running(
                conn,
                row_id=handle.row_id,
                process_id=message.pid,
                metadata={"loaded": list(message.loaded), "startup_ms": message.startup_ms},
            )
        return
    await _on_heartbeat(manager, handle, message)


async def _on_heartbeat(
    manager: ProjectWorkerManager, handle: ManagedWorker, message: protocol.Heartbeat
) -> None:
    assert handle.supervisor is not None
    if handle.supervisor.tasks != (message.tasks_completed, message.tasks_failed):
        handle.last_busy = time.monotonic()
    manager.policy.ran_for(handle.project_id, time.monotonic() - handle.started_at)
    figures = registry.TaskFigures(
        completed=message.tasks_completed,
        failed=message.tasks_failed,
        avg_task_ms=message.avg_task_ms,
        cpu_percent=min(message.cpu_percent, 999.99),
        memory_mb=round(message.rss_mb if message.pss_mb is None else message.pss_mb),
    )
    async with service_session(manager.pool) as conn:
        still_ours = await registry.heartbeat(
            conn,
            row_id=handle.row_id,
            figures=figures,
            metadata={"loaded": list(handle.loaded)},
        )
    if not still_ours and not handle.stopping:
        # Another manager declared this row stale (we were too slow): it owns the
        # project now, so this process must go.
        log.warning("project %s: lost ownership of %s", handle.project_id, handle.worker_id)
        manager.in_background(
            manager.stop_worker_for_project(handle.project_id, reason="lost_ownership")
        )
