"""What a manager does when one of its worker processes dies: record it, and restart it
as the :class:`~runloom.manager.restart_policy.RestartPolicy` says, until it gives up
(``reason: crash_loop``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from runloom.errors import NotFoundError
from runloom.manager.handles import ManagedWorker
from runloom.manager.restart_policy import crash_record
from runloom.manager.supervisor import (
    ExitInfo,
    Supervisor,
    WorkerError,
    WorkerStartError,
    describe_exit,
)
from runloom.services.worker_requests import NothingDeployedError
from runloom.store.registry import ClaimedElsewhereError

if TYPE_CHECKING:
    from runloom.manager.workers import ProjectWorkerManager

__all__ = ["watch"]

log = logging.getLogger(__name__)


async def watch(
    manager: ProjectWorkerManager, handle: ManagedWorker, supervisor: Supervisor
) -> None:
    """Wait for the worker process to end; unless it was asked to, it crashed."""
    info = await supervisor.exited()
    if not handle.stopping:
        await _crashed(manager, handle, info)


async def _crashed(manager: ProjectWorkerManager, handle: ManagedWorker, info: ExitInfo) -> None:
    if manager.handles.get(handle.project_id) is handle:
        del manager.handles[handle.project_id]
    handle.status = "failed"
    description = info.error or describe_exit(info.code)
    if handle.silent:
        description = f"no heartbeat from the worker for {manager.hung_after_s:g} s; killed"
    decision = manager.policy.after_failure(handle.project_id)
    give_up = decision.give_up and not manager.closing
    metadata = crash_record(
        description=description,
        exit_code=info.code,
        stderr_tail=info.stderr_tail,
        failures=decision.failures,
        give_up=give_up,
    )
    await manager.set_status(handle, "failed", metadata)
    if decision.give_up or manager.closing:
        log.error("project %s: worker crash loop, giving up: %s", handle.project_id, description)
        return
    log.warning(
        "project %s: worker died (%s); restarting in %.1f s",
        handle.project_id,
        description,
        decision.delay_s,
    )
    manager.in_background(_restart_later(manager, handle, decision.delay_s))


async def _restart_later(
    manager: ProjectWorkerManager, previous: ManagedWorker, delay_s: float
) -> None:
    await asyncio.sleep(delay_s)
    async with manager.lock(previous.project_id):
        if previous.project_id in manager.handles or manager.closing:
            return
        try:
            handle = await manager.claim_and_spawn(
                previous.project_id, restart_of=previous.worker_id
            )
        except (ClaimedElsewhereError, NotFoundError, NothingDeployedError):
            return
        except WorkerError:
            # Spawning itself failed (not the process): count it and try again later.
            decision = manager.policy.after_failure(previous.project_id)
            if not decision.give_up:
                manager.in_background(_restart_later(manager, previous, decision.delay_s))
            return
    with contextlib.suppress(WorkerStartError):
        await manager.wait_ready(handle)
