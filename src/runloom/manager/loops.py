"""The loops of a running manager: requests over LISTEN, heartbeats, stale takeover, idle
stop and backlog wake-up. Each loop survives any one failure of the database or Temporal:
it logs and tries again on its next turn."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable

import psycopg

from runloom.db import service_session
from runloom.errors import RunloomError
from runloom.manager import temporal_queues, turns
from runloom.manager.supervisor import kill_group
from runloom.manager.workers import ProjectWorkerManager
from runloom.naming import CONTROL_CHANNEL
from runloom.services import namespaces
from runloom.services.worker_requests import ControlRequest
from runloom.store import registry

__all__ = [
    "RegistryContact",
    "handle_request",
    "heartbeat",
    "serve",
    "stop_idle",
    "take_over_stale",
    "wake_projects_with_backlog",
]

log = logging.getLogger(__name__)


async def serve(manager: ProjectWorkerManager, *, database_url: str, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set: LISTEN for requests, take over stale projects, wake
    projects with a backlog, stop idle workers. Stops the manager's workers at the end."""
    contact = RegistryContact(manager.heartbeat_s)
    await turns.register(manager)
    loops = [
        asyncio.create_task(_listen(manager, database_url, stop)),
        asyncio.create_task(_every(manager.heartbeat_s, lambda: heartbeat(manager))),
        asyncio.create_task(_every(manager.heartbeat_s, lambda: _maintenance(manager, contact))),
        asyncio.create_task(
            _every(manager.backlog_poll_s, lambda: wake_projects_with_backlog(manager))
        ),
    ]
    try:
        await stop.wait()
    finally:
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        await manager.close()
        with contextlib.suppress(psycopg.Error, OSError):
            await turns.unregister(manager)


async def handle_request(manager: ProjectWorkerManager, request: ControlRequest) -> None:
    """Act on one request of the API (see runloom.services.worker_requests); a project no
    manager serves goes to the least loaded one (:mod:`runloom.manager.turns`)."""
    if request.action == "ensure":
        await turns.ensure_in_turn(manager, request.project_id, workflow_type=request.workflow_type)
    elif request.action == "stop":
        await manager.stop_worker_for_project(request.project_id, reason="requested")
    elif request.project_id in manager.handles:
        await manager.restart(request.project_id)
    else:
        await turns.ensure_in_turn(manager, request.project_id, workflow_type=None)


async def _listen(manager: ProjectWorkerManager, database_url: str, stop: asyncio.Event) -> None:
    # A dedicated connection: LISTEN is per session, and pooled ones get reset.
    while not stop.is_set():
        try:
            async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
                await conn.execute(f"LISTEN {CONTROL_CHANNEL}")
                async for note in conn.notifies():
                    manager.in_background(_on_notification(manager, note.payload))
        except (psycopg.Error, OSError) as exc:
            log.warning("control channel lost (%s); reconnecting", exc)
            await asyncio.sleep(min(manager.heartbeat_s, 2.0))


async def _on_notification(manager: ProjectWorkerManager, payload: str) -> None:
    try:
        await handle_request(manager, ControlRequest.decode(payload))
    except (RunloomError, ValueError, KeyError) as exc:
        log.info("worker request %s not carried out: %s", payload, exc)


async def _every(interval_s: float, action: Callable[[], Awaitable[None]]) -> None:
    while True:
        try:
            await action()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("manager task failed; retrying in %.1f s", interval_s)
        await asyncio.sleep(interval_s)


async def heartbeat(manager: ProjectWorkerManager) -> None:
    """Vouch for the manager's rows, and replace workers that stopped answering.

    The row's heartbeat is the manager's: it says "a live manager supervises this
    worker". Worker hiccups (a busy event loop) must not make the project look
    abandoned; a worker that stays silent for long is killed and restarted instead.
    """
    await turns.register(manager)
    handles = list(manager.handles.values())
    if not handles:
        return
    async with service_session(manager.pool) as conn:
        ours = await registry.vouch(conn, [h.row_id for h in handles])
    now = time.monotonic()
    for handle in handles:
        supervisor = handle.supervisor
        if handle.row_id not in ours and not handle.stopping:
            log.warning("project %s: lost ownership of %s", handle.project_id, handle.worker_id)
            manager.in_background(
                manager.stop_worker_for_project(handle.project_id, reason="lost_ownership")
            )
        elif (
            handle.status == "running"
            and supervisor is not None
            and supervisor.pid is not None
            and now - supervisor.last_message > manager.hung_after_s
        ):
            log.error("project %s: worker silent, killing it", handle.project_id)
            handle.silent = True
            kill_group(supervisor.pid)


async def _maintenance(manager: ProjectWorkerManager, contact: RegistryContact) -> None:
    await take_over_stale(manager, contact=contact)
    await stop_idle(manager)


class RegistryContact:
    """When a manager's maintenance last reached the registry, and since when it has
    without a gap.

    After a gap of more than two heartbeats (the database was away, or this process
    stalled) every row looks stale at once, though the managers behind them live: every
    manager lost the database together. Their rows get three heartbeats to be vouched for
    again before any is judged.
    """

    def __init__(self, heartbeat_s: float) -> None:
        self.heartbeat_s = heartbeat_s
        self._last: float | None = None
        self._steady_since = -math.inf  # a manager that just started judges at once

    def reached(self, now: float) -> bool:
        """Record a contact at ``now``; whether stale rows may be judged now."""
        if self._last is not None and now - self._last > 2 * self.heartbeat_s:
            self._steady_since = now
        self._last = now
        return now - self._steady_since >= 3 * self.heartbeat_s


async def take_over_stale(
    manager: ProjectWorkerManager, *, contact: RegistryContact | None = None
) -> None:
    """Fail rows whose manager stopped heartbeating, and have their projects started by
    the least loaded live managers (this one among them).

    Never this manager's own rows: it supervises those workers and vouches for them itself.
    With ``contact``, nothing is judged right after this manager was itself cut off.
    """
    async with service_session(manager.pool) as conn:
        if contact is not None and not contact.reached(time.monotonic()):
            return
        freed = await registry.expire_stale(
            conn,
            manager_id=manager.manager_id,
            stale_s=manager.stale_s,
            keep=[handle.row_id for handle in manager.handles.values()],
        )
    for project_id in freed:
        log.warning("project %s: worker stale, taking over", project_id)
    if freed:
        await turns.announce(manager, freed)


async def stop_idle(manager: ProjectWorkerManager) -> None:
    """Stop workers with nothing to do for ``idle_timeout_s`` (scale to zero)."""
    now = time.monotonic()
    for handle in list(manager.handles.values()):
        if handle.status != "running" or now - handle.last_busy < manager.idle_timeout_s:
            continue
        async with service_session(manager.pool) as conn:
            open_runs = await registry.open_execution_count(conn, handle.project_id)
        client = namespaces.client_for(manager.client, handle.temporal_namespace)
        if open_runs or await temporal_queues.backlog(client, handle.task_queue):
            handle.last_busy = time.monotonic()
            continue
        log.info("project %s: idle, stopping its worker", handle.project_id)
        handle.status = "stopping"
        manager.in_background(manager.stop_worker_for_project(handle.project_id, reason="idle"))


async def wake_projects_with_backlog(manager: ProjectWorkerManager) -> None:
    async with service_session(manager.pool) as conn:
        candidates = await registry.wakeable_projects(conn)
    for project in candidates:
        if project.project_id in manager.handles or manager.closing:
            continue
        client = namespaces.client_for(manager.client, project.temporal_namespace)
        if await temporal_queues.backlog(client, project.task_queue_name):
            log.info("project %s: backlog on its task queue, starting a worker", project.project_id)
            manager.in_background(turns.start_in_turn(manager, project.project_id))
