"""One supervised worker process per project, shared by any number of managers.

The registry (:mod:`runloom.store.registry`) is both the record and the lock: a manager
owns a project while its row is ``starting`` or ``running``, heartbeats its rows, and may
take over a project whose row's heartbeat is three intervals old. A worker process that
dies is recorded as failed and restarted as the
:class:`~runloom.manager.restart_policy.RestartPolicy` says, until it gives up
(``reason: crash_loop``) and only an explicit request starts the project again.

Idle workers stop; a backlog on the queue or a request through
:mod:`runloom.services.worker_requests` starts them again (:mod:`runloom.manager.loops`),
on the least loaded live manager (:mod:`runloom.manager.turns`).
What a worker is told at start is in :mod:`runloom.manager.launching`, what it reports
is handled in :mod:`runloom.manager.reports`, its crashes in :mod:`runloom.manager.crashes`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Coroutine, Mapping
from typing import Any
from uuid import UUID

from temporalio.client import Client

from runloom.db import service_session
from runloom.db.pool import Pool
from runloom.errors import NotFoundError
from runloom.manager import crashes, reports
from runloom.manager.bundles import load_bundle, load_nonempty_bundle
from runloom.manager.handles import (
    ManagedWorker,
    WantedVersions,
    WorkerLaunch,
    WorkerView,
    bundle_entries,
)
from runloom.manager.launching import start_message
from runloom.manager.restart_policy import RestartPolicy
from runloom.manager.supervisor import Supervisor, WorkerError, WorkerStartError
from runloom.models import WorkerStatus
from runloom.services import namespaces
from runloom.services.worker_requests import NothingDeployedError
from runloom.store import code, registry
from runloom.store.registry import ClaimedElsewhereError
from runloom.worker.spawn import worker_command, worker_environment

__all__ = ["ProjectWorkerManager"]

log = logging.getLogger(__name__)


class ProjectWorkerManager:
    """Starts, supervises, reloads and stops project worker processes; its loops are in
    :func:`runloom.manager.loops.serve`, and tests call its methods directly."""

    def __init__(
        self,
        *,
        pool: Pool,
        client: Client,
        manager_id: str | None = None,
        heartbeat_s: float = 30.0,
        idle_timeout_s: float = 300.0,
        backlog_poll_s: float = 3.0,
        policy: RestartPolicy | None = None,
        launch: WorkerLaunch | None = None,
    ) -> None:
        self.pool = pool
        self.client = client
        self.manager_id = (
            manager_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        )
        self.host = socket.gethostname()
        self.heartbeat_s = heartbeat_s
        # A row (or a manager) silent this long is dead, and its projects are taken over.
        self.stale_s = 3 * heartbeat_s
        self.idle_timeout_s = idle_timeout_s
        self.backlog_poll_s = backlog_poll_s
        self.policy = policy or RestartPolicy()
        self.launch = launch or WorkerLaunch()
        # Silence for this long means a stuck worker process.
        self.hung_after_s = max(10 * heartbeat_s, 15.0)
        self.handles: dict[UUID, ManagedWorker] = {}
        self.awaiting_turn: set[UUID] = set()  # projects waiting to see who claims them
        self.wanted = WantedVersions()
        self._locks: dict[UUID, asyncio.Lock] = collections.defaultdict(asyncio.Lock)
        self._background: set[asyncio.Task[Any]] = set()
        self.closing = False

    def workers(self) -> list[WorkerView]:
        return [h.view() for h in self.handles.values()]  # the workers this manager owns

    async def start_worker_for_project(self, project_id: UUID) -> WorkerView:
        """Claim the project and start its worker; return it once it is running.

        Raises ClaimedElsewhereError if another manager's worker is active (and not
        stale), NotFoundError for an unknown project, NothingDeployedError (claiming
        nothing) when it has no code to serve, WorkerStartError if the process fails to
        come up (the failure is recorded, and retried with backoff).
        """
        async with self.lock(project_id):
            handle = self.handles.get(project_id)
            if handle is None:
                handle = await self.claim_and_spawn(project_id, restart_of=None)
        await self.wait_ready(handle)
        return handle.view()

    async def stop_worker_for_project(self, project_id: UUID, *, reason: str = "requested") -> bool:
        """Stop this manager's worker of the project gracefully; False if it has none."""
        async with self.lock(project_id):
            handle = self.handles.get(project_id)
            if handle is None:
                return False
            await self._stop(handle, reason=reason)
            return True

    async def restart(self, project_id: UUID) -> WorkerView:
        await self.stop_worker_for_project(project_id, reason="restart")
        self.policy.reset(project_id)
        return await self.start_worker_for_project(project_id)

    async def reload(self, project_id: UUID) -> WorkerView | None:
        """Give the running worker the project's current code; None if not ours.

        The worker starts a Temporal Worker with the new set before the old one shuts
        down gracefully, so no task is lost and runs of old versions keep their code.
        """
        async with self.lock(project_id):
            handle = self.handles.get(project_id)
            if handle is None or handle.supervisor is None:
                return None
            await self.wait_ready(handle)
            client = namespaces.client_for(self.client, handle.temporal_namespace)
            bundle = await load_bundle(
                self.pool, client, self.wanted, project_id, handle.task_queue
            )
            if frozenset(e.code_id for e in bundle) == handle.code_ids:
                return handle.view()
            answer = await handle.supervisor.reload(
                bundle_entries(project_id, bundle), timeout_s=self.launch.start_timeout_s
            )
            handle.code_ids = frozenset(e.code_id for e in bundle)
            handle.loaded = answer.loaded
            async with service_session(self.pool) as conn:
                await registry.heartbeat(
                    conn,
                    row_id=handle.row_id,
                    figures=registry.TaskFigures(*handle.supervisor.tasks),
                    metadata={"loaded": list(handle.loaded)},
                )
            return handle.view()

    async def ensure_running(
        self, project_id: UUID, *, workflow_type: str | None = None
    ) -> WorkerView | None:
        """A running worker serving the current code (and ``workflow_type``, if asked for);
        None when another manager owns the project. It lifts a crash-loop stop."""
        self.wanted.add(project_id, workflow_type)
        if (handle := self.handles.get(project_id)) is not None:
            # Asked for: a run is about to start, so the worker is not idle.
            handle.last_busy = time.monotonic()
            status = await self.reload(project_id)
            if status is not None:
                return status
        self.policy.reset(project_id)
        try:
            return await self.start_worker_for_project(project_id)
        except ClaimedElsewhereError:
            return None

    async def close(self) -> None:
        """Stop every worker of this manager (rows end ``stopped``)."""
        self.closing = True
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(
            *(
                self.stop_worker_for_project(p, reason="manager_stopped")
                for p in list(self.handles)
            ),
            return_exceptions=True,
        )

    async def start_quietly(self, project_id: UUID) -> None:
        """Start the project's worker if nobody else has; failures are recorded, not raised."""
        quiet = (ClaimedElsewhereError, WorkerStartError, NotFoundError, NothingDeployedError)
        with contextlib.suppress(*quiet):
            await self.start_worker_for_project(project_id)

    def lock(self, project_id: UUID) -> asyncio.Lock:
        """Held while the project's worker is claimed, spawned, reloaded or stopped here."""
        return self._locks[project_id]

    def in_background(self, coro: Coroutine[Any, Any, Any]) -> None:
        if self.closing:
            coro.close()
            return
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- claiming and spawning ------------------------------------------------------

    async def claim_and_spawn(self, project_id: UUID, *, restart_of: str | None) -> ManagedWorker:
        if self.closing:
            raise WorkerError("the manager is shutting down")
        worker_id = f"worker-{project_id}-{int(time.time() * 1000)}-{uuid.uuid4().hex[:4]}"
        metadata = {
            "manager_id": self.manager_id,
            "manager_pid": os.getpid(),
            "restarts": self.policy.failures(project_id),
            **({"restart_of": restart_of} if restart_of else {}),
        }
        async with service_session(self.pool) as conn:
            project = await registry.project_queue(conn, project_id)
            await registry.expire_stale(
                conn,
                manager_id=self.manager_id,
                stale_s=self.stale_s,
                project_id=project_id,
            )
        bundle = await load_nonempty_bundle(
            self.pool,
            namespaces.client_for(self.client, project.temporal_namespace),
            self.wanted,
            project_id,
            project.task_queue_name,
        )
        async with service_session(self.pool) as conn:
            row_id = await registry.claim(
                conn, worker_id=worker_id, project=project, host=self.host, metadata=metadata
            )
        handle = ManagedWorker(
            project_id=project_id,
            task_queue=project.task_queue_name,
            worker_id=worker_id,
            row_id=row_id,
            python_network=project.python_network,
            temporal_namespace=project.temporal_namespace,
        )
        self.handles[project_id] = handle
        try:
            await self._spawn(handle, bundle)
        except Exception as exc:
            self.handles.pop(project_id, None)
            await self.set_status(handle, "failed", {"reason": "start_failed", "error": str(exc)})
            raise WorkerStartError(
                f"cannot start the worker of project {project_id}: {exc}"
            ) from exc
        return handle

    async def _spawn(self, handle: ManagedWorker, bundle: list[code.CodeBundleEntry]) -> None:
        supervisor = Supervisor(
            name=handle.worker_id,
            command=worker_command(python=self.launch.python),
            env=worker_environment(memory_mb=self.launch.memory_mb),
            on_message=lambda message: reports.on_message(self, handle, message),
            graceful_shutdown_s=self.launch.graceful_shutdown_s,
            secrets=self.launch.secrets_reader(handle.project_id),
            zygote=self.launch.zygote,
        )
        handle.supervisor = supervisor
        handle.code_ids = frozenset(e.code_id for e in bundle)
        await supervisor.spawn(
            start_message(
                launch=self.launch,
                handle=handle,
                bundle=bundle,
                client=self.client,
                host=self.host,
                heartbeat_s=self.heartbeat_s,
            )
        )
        self.in_background(crashes.watch(self, handle, supervisor))

    async def wait_ready(self, handle: ManagedWorker) -> None:
        assert handle.supervisor is not None
        await handle.supervisor.wait_ready(self.launch.start_timeout_s)

    async def set_status(
        self, handle: ManagedWorker, status: WorkerStatus, metadata: Mapping[str, Any]
    ) -> None:
        tasks = handle.supervisor.tasks if handle.supervisor else (0, 0)
        async with service_session(self.pool) as conn:
            await registry.set_status(
                conn, row_id=handle.row_id, status=status, tasks=tasks, metadata=metadata
            )

    async def _stop(self, handle: ManagedWorker, *, reason: str) -> None:
        handle.stopping = True
        handle.status = "stopping"
        await self.set_status(handle, "stopping", {"reason": reason})
        if handle.supervisor is not None:
            await handle.supervisor.stop()
        handle.status = "stopped"
        await self.set_status(handle, "stopped", {"reason": reason})
        if self.handles.get(handle.project_id) is handle:
            del self.handles[handle.project_id]
