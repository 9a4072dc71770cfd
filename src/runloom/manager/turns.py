"""Fair claims: a project that needs a worker goes to the live manager with the fewest.

The registry's unique index lets only one manager claim a project, but on its own it
gives the project to whichever manager is fastest, and a busy host is not slower at
claiming. So every manager that hears of a project needing a worker (a request over
NOTIFY, a backlog on its queue, a takeover) first asks the database whose turn it is
(:func:`runloom.store.managers.turn`): the least loaded live manager takes the turn and
claims at once (the turn counts towards its load while it loads the code, so a burst of
projects waking together is spread, not all given to whoever was least loaded first); the
others wait until a worker serves the project, and claim it themselves only if none does
within the takeover time (the chosen manager may have died meanwhile).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING
from uuid import UUID

from runloom.db import service_session
from runloom.naming import CONTROL_CHANNEL
from runloom.services.worker_requests import ControlRequest
from runloom.store import managers

if TYPE_CHECKING:
    from runloom.manager.workers import ProjectWorkerManager

__all__ = ["announce", "ensure_in_turn", "register", "start_in_turn", "unregister"]

log = logging.getLogger(__name__)


async def register(manager: ProjectWorkerManager) -> None:
    """The manager's own heartbeat: it is live and may be given projects."""
    async with service_session(manager.pool) as conn:
        await managers.register(conn, manager_id=manager.manager_id, host=manager.host)
        await managers.forget_dead(conn, forget_s=100 * manager.stale_s)


async def unregister(manager: ProjectWorkerManager) -> None:
    async with service_session(manager.pool) as conn:
        await managers.unregister(conn, manager_id=manager.manager_id)


async def announce(manager: ProjectWorkerManager, project_ids: list[UUID]) -> None:
    """Tell every manager that these projects need a worker (their owner died), so that
    the least loaded one takes each, not the one that noticed."""
    async with service_session(manager.pool) as conn:
        for project_id in project_ids:
            request = ControlRequest(action="ensure", project_id=project_id)
            await managers.notify_control(conn, channel=CONTROL_CHANNEL, payload=request.encode())


async def start_in_turn(manager: ProjectWorkerManager, project_id: UUID) -> None:
    """Start the project's worker if it falls to this manager; failures are recorded."""
    if await _my_turn(manager, project_id):
        await manager.start_quietly(project_id)


async def ensure_in_turn(
    manager: ProjectWorkerManager, project_id: UUID, *, workflow_type: str | None
) -> None:
    """Have the project's worker serve ``workflow_type`` if the project is (or falls to)
    this manager; another live manager's worker is its owner's to reload."""
    if project_id in manager.handles or await _my_turn(manager, project_id):
        await manager.ensure_running(project_id, workflow_type=workflow_type)


async def _my_turn(manager: ProjectWorkerManager, project_id: UUID) -> bool:
    if project_id in manager.awaiting_turn:
        return False  # an earlier request for the project is already waiting here
    manager.awaiting_turn.add(project_id)
    try:
        return await _wait_for_turn(manager, project_id)
    finally:
        manager.awaiting_turn.discard(project_id)


async def _wait_for_turn(manager: ProjectWorkerManager, project_id: UUID) -> bool:
    deadline = time.monotonic() + manager.stale_s
    while not manager.closing:
        async with service_session(manager.pool) as conn:
            turn = await managers.turn(
                conn, project_id=project_id, manager_id=manager.manager_id, stale_s=manager.stale_s
            )
        if turn.served or project_id in manager.handles:
            return False
        if turn.pick is None or turn.pick == manager.manager_id:
            return True
        if time.monotonic() >= deadline:
            log.info("project %s: %s did not claim it; claiming here", project_id, turn.pick)
            return True
        await asyncio.sleep(manager.heartbeat_s / 2)
    return False
