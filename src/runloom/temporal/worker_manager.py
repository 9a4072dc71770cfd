"""One supervised worker process per project, shared by any number of managers.

The registry table ``workflow_workers`` is both the record and the lock: a manager owns a
project while its row is ``starting`` or ``running`` (the unique partial index
``idx_one_active_worker_per_project`` admits one such row per project). A manager
heartbeats its rows; a row whose heartbeat is older than three intervals is stale and any
manager may fail it and take the project over. A worker process that dies is recorded as
failed with its exit code and the tail of its stderr, and restarted with exponential
backoff until a bound, after which the project stays failed (``reason: crash_loop``) until
someone asks for it explicitly.

Idle workers stop (``reason: idle``); a backlog on the project's task queue, as Temporal
reports it, or a request through :mod:`runloom.temporal.worker_control` starts them again.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import os
import signal
import socket
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import psycopg
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from runloom import codestore
from runloom.db import service_session, sql
from runloom.db.pool import Pool
from runloom.errors import ConflictError, NotFoundError, RunloomError
from runloom.temporal.worker_control import CONTROL_CHANNEL
from runloom.worker.protocol import BundleEntry, StartMessage, bundle_to_json
from runloom.worker.spawn import worker_command, worker_environment

__all__ = [
    "CONTROL_CHANNEL",
    "ProjectWorkerManager",
    "WorkerClaimedElsewhereError",
    "WorkerError",
    "WorkerStartError",
    "WorkerStatus",
]

log = logging.getLogger(__name__)

_STDERR_TAIL_LINES = 40
_MAX_OPEN_TYPES = 1000


class WorkerError(RunloomError):
    """A project worker could not be started, reloaded or stopped."""


class WorkerStartError(WorkerError):
    """The worker process exited or did not report ready in time."""


class WorkerClaimedElsewhereError(ConflictError):
    """Another manager holds an active worker for the project."""


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    project_id: UUID
    worker_id: str
    status: str
    process_id: int | None
    loaded: tuple[str, ...]


@dataclass(eq=False)
class _Handle:
    """A worker process this manager started and supervises."""

    project_id: UUID
    task_queue: str
    worker_id: str
    row_id: UUID
    restarts: int
    proc: asyncio.subprocess.Process | None = None
    loaded: tuple[str, ...] = ()
    code_ids: frozenset[UUID] = frozenset()
    status: str = "starting"
    ready: asyncio.Future[None] = field(default_factory=asyncio.Future)
    reload_reply: asyncio.Future[dict[str, Any]] | None = None
    stopping: bool = False
    started_at: float = field(default_factory=time.monotonic)
    last_busy: float = field(default_factory=time.monotonic)
    tasks: tuple[int, int] = (0, 0)
    last_message: float = field(default_factory=time.monotonic)
    silent: bool = False
    stderr_tail: collections.deque[str] = field(
        default_factory=lambda: collections.deque(maxlen=_STDERR_TAIL_LINES)
    )
    supervisor: asyncio.Task[None] | None = None
    exited: asyncio.Event = field(default_factory=asyncio.Event)

    def status_view(self) -> WorkerStatus:
        return WorkerStatus(
            project_id=self.project_id,
            worker_id=self.worker_id,
            status=self.status,
            process_id=self.proc.pid if self.proc else None,
            loaded=self.loaded,
        )


class ProjectWorkerManager:
    """Starts, supervises, reloads and stops project worker processes.

    ``serve(stop)`` runs the manager's loops (control channel, heartbeats, stale
    takeover, backlog polling, idle stop) until ``stop`` is set, then stops its workers.
    The methods can also be called directly, which is what the tests and ``serve`` do.
    """

    def __init__(
        self,
        *,
        pool: Pool,
        client: Client,
        database_url: str,
        manager_id: str | None = None,
        heartbeat_s: float = 30.0,
        idle_timeout_s: float = 300.0,
        memory_mb: int = 1024,
        backlog_poll_s: float = 3.0,
        max_restarts: int = 5,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        stable_after_s: float = 60.0,
        start_timeout_s: float = 30.0,
        graceful_shutdown_s: float = 30.0,
        python: str | None = None,
    ) -> None:
        self.pool = pool
        self.client = client
        self.database_url = database_url
        self.manager_id = (
            manager_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        )
        self.host = socket.gethostname()
        self.heartbeat_s = heartbeat_s
        self.idle_timeout_s = idle_timeout_s
        self.memory_mb = memory_mb
        self.backlog_poll_s = backlog_poll_s
        self.max_restarts = max_restarts
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.stable_after_s = stable_after_s
        self.start_timeout_s = start_timeout_s
        self.graceful_shutdown_s = graceful_shutdown_s
        self.python = python
        # Silence for this long means a stuck worker process.
        self.hung_after_s = max(10 * heartbeat_s, 15.0)
        self._handles: dict[UUID, _Handle] = {}
        self._locks: dict[UUID, asyncio.Lock] = collections.defaultdict(asyncio.Lock)
        self._failures: dict[UUID, int] = collections.defaultdict(int)
        self._background: set[asyncio.Task[Any]] = set()
        self._closing = False

    # --- public API -----------------------------------------------------------------

    def workers(self) -> list[WorkerStatus]:
        """The workers this manager currently owns."""
        return [h.status_view() for h in self._handles.values()]

    async def start_worker_for_project(self, project_id: UUID) -> WorkerStatus:
        """Claim the project and start its worker; return it once it is running.

        Raises WorkerClaimedElsewhereError if another manager's worker is active (and not
        stale), NotFoundError for an unknown project, WorkerStartError if the process
        fails to come up (the failure is recorded, and retried with backoff).
        """
        async with self._locks[project_id]:
            handle = self._handles.get(project_id)
            if handle is None:
                handle = await self._claim_and_spawn(project_id, restarts=0, restart_of=None)
        await self._wait_ready(handle)
        return handle.status_view()

    async def stop_worker_for_project(self, project_id: UUID, *, reason: str = "requested") -> bool:
        """Stop this manager's worker of the project gracefully; False if it has none."""
        async with self._locks[project_id]:
            handle = self._handles.get(project_id)
            if handle is None:
                return False
            await self._stop(handle, reason=reason)
            return True

    async def restart(self, project_id: UUID) -> WorkerStatus:
        await self.stop_worker_for_project(project_id, reason="restart")
        self._failures.pop(project_id, None)
        return await self.start_worker_for_project(project_id)

    async def reload(self, project_id: UUID) -> WorkerStatus | None:
        """Give the running worker the project's current code; None if not ours.

        The worker starts a Temporal Worker with the new set before the old one shuts
        down gracefully, so no task is lost and runs of old versions keep their code.
        """
        async with self._locks[project_id]:
            handle = self._handles.get(project_id)
            if handle is None:
                return None
            await self._wait_ready(handle)
            bundle = await self._bundle(project_id, handle.task_queue)
            if frozenset(e.code_id for e in bundle) == handle.code_ids:
                return handle.status_view()
            if handle.proc is None or handle.proc.stdin is None:
                raise WorkerError(f"worker {handle.worker_id} has no control pipe")
            reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            handle.reload_reply = reply
            message = {
                "type": "reload",
                "bundle": bundle_to_json(self._entries(project_id, bundle)),
            }
            handle.proc.stdin.write((json.dumps(message) + "\n").encode())
            await handle.proc.stdin.drain()
            try:
                answer = await asyncio.wait_for(asyncio.shield(reply), self.start_timeout_s)
            except TimeoutError:
                raise WorkerError(
                    f"worker {handle.worker_id} did not confirm the reload within "
                    f"{self.start_timeout_s:g} s"
                ) from None
            finally:
                handle.reload_reply = None
            if answer["type"] != "reloaded":
                raise WorkerError(
                    f"worker {handle.worker_id} could not load the new code: "
                    f"{answer.get('message')}"
                )
            handle.code_ids = frozenset(e.code_id for e in bundle)
            handle.loaded = tuple(answer["loaded"])
            await self._write_heartbeat(handle, {})
            return handle.status_view()

    async def ensure_running(
        self, project_id: UUID, *, workflow_type: str | None = None
    ) -> WorkerStatus | None:
        """Make sure the project has a running worker serving its current code.

        Returns None when another live manager owns the project (it acts on the same
        request). An explicit request also lifts a crash-loop stop.
        """
        if project_id in self._handles:
            status = await self.reload(project_id)
            if status is not None:
                return status
        self._failures.pop(project_id, None)
        try:
            return await self.start_worker_for_project(project_id)
        except WorkerClaimedElsewhereError:
            return None

    async def close(self) -> None:
        """Stop every worker of this manager (rows end ``stopped``)."""
        self._closing = True
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(
            *(
                self.stop_worker_for_project(p, reason="manager_stopped")
                for p in list(self._handles)
            ),
            return_exceptions=True,
        )

    # --- the manager loop -----------------------------------------------------------

    async def serve(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set: LISTEN for requests, take over stale projects, wake
        projects with a backlog, stop idle workers. Stops this manager's workers at the end."""
        loops = [
            asyncio.create_task(self._listen(stop)),
            asyncio.create_task(self._every(self.heartbeat_s, self.heartbeat)),
            asyncio.create_task(self._every(self.heartbeat_s, self._maintenance)),
            asyncio.create_task(self._every(self.backlog_poll_s, self._wake_projects_with_backlog)),
        ]
        try:
            await stop.wait()
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            await self.close()

    async def handle_request(self, request: Mapping[str, Any]) -> None:
        """Act on one control message (see runloom.temporal.worker_control)."""
        action = request.get("action")
        project_id = UUID(str(request["project_id"]))
        if action == "ensure":
            await self.ensure_running(project_id, workflow_type=request.get("workflow_type"))
        elif action == "stop":
            await self.stop_worker_for_project(project_id, reason="requested")
        elif action == "restart":
            if project_id in self._handles:
                await self.restart(project_id)
            else:
                await self.ensure_running(project_id)
        elif action == "reload":
            await self.reload(project_id)
        else:
            log.warning("ignoring unknown worker request %r", request)

    async def _listen(self, stop: asyncio.Event) -> None:
        # A dedicated connection: LISTEN is per session, and pooled ones get reset.
        while not stop.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.database_url, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {CONTROL_CHANNEL}")
                    async for note in conn.notifies():
                        self._spawn_background(self._on_notification(note.payload))
            except (psycopg.Error, OSError) as exc:
                log.warning("control channel lost (%s); reconnecting", exc)
                await asyncio.sleep(min(self.heartbeat_s, 2.0))

    async def _on_notification(self, payload: str) -> None:
        try:
            request = json.loads(payload)
            await self.handle_request(request)
        except (RunloomError, ValueError, KeyError) as exc:
            log.info("worker request %s not carried out: %s", payload, exc)

    async def _every(self, interval: float, action: Any) -> None:
        while True:
            try:
                await action()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(
                    "manager task %s failed; retrying", getattr(action, "__name__", action)
                )
            await asyncio.sleep(interval)

    async def heartbeat(self) -> None:
        """Vouch for this manager's rows, and replace workers that stopped answering.

        The row's heartbeat is the manager's: it says "a live manager supervises this
        worker". Worker hiccups (a busy event loop) must not make the project look
        abandoned; a worker that stays silent for long is killed and restarted instead.
        """
        handles = list(self._handles.values())
        if not handles:
            return
        async with service_session(self.pool) as conn:
            cur = await conn.execute(
                sql("registry_manager_heartbeat"), {"ids": [h.row_id for h in handles]}
            )
            ours = {row["id"] for row in await cur.fetchall()}
        now = time.monotonic()
        for handle in handles:
            if handle.row_id not in ours and not handle.stopping:
                log.warning("project %s: lost ownership of %s", handle.project_id, handle.worker_id)
                self._spawn_background(
                    self.stop_worker_for_project(handle.project_id, reason="lost_ownership")
                )
            elif (
                handle.status == "running"
                and handle.proc is not None
                and now - handle.last_message > self.hung_after_s
            ):
                log.error("project %s: worker silent, killing it", handle.project_id)
                handle.silent = True
                _kill_group(handle.proc.pid)

    async def _maintenance(self) -> None:
        await self.take_over_stale()
        await self.stop_idle()

    async def take_over_stale(self) -> None:
        """Fail rows whose manager stopped heartbeating, and start their projects here."""
        async with service_session(self.pool) as conn:
            cur = await conn.execute(
                sql("registry_expire_stale"),
                {
                    "manager_id": self.manager_id,
                    "stale_s": 3 * self.heartbeat_s,
                    "project_id": None,
                },
            )
            expired = await cur.fetchall()
        for row in {r["project_id"] for r in expired}:
            log.warning("project %s: worker stale, taking over", row)
            self._spawn_background(self._start_quietly(row))

    async def stop_idle(self) -> None:
        """Stop workers with nothing to do for ``idle_timeout_s`` (scale to zero)."""
        now = time.monotonic()
        for handle in list(self._handles.values()):
            if handle.status != "running" or now - handle.last_busy < self.idle_timeout_s:
                continue
            async with service_session(self.pool) as conn:
                cur = await conn.execute(
                    sql("registry_open_executions"), {"project_id": handle.project_id}
                )
                row = await cur.fetchone()
            if (row and row["open"]) or await self._backlog(handle.task_queue):
                handle.last_busy = time.monotonic()
                continue
            log.info("project %s: idle, stopping its worker", handle.project_id)
            handle.status = "stopping"
            self._spawn_background(self.stop_worker_for_project(handle.project_id, reason="idle"))

    async def _wake_projects_with_backlog(self) -> None:
        async with service_session(self.pool) as conn:
            cur = await conn.execute(sql("registry_wakeable_projects"))
            candidates = await cur.fetchall()
        for row in candidates:
            if row["id"] in self._handles or self._closing:
                continue
            if await self._backlog(row["task_queue_name"]):
                log.info("project %s: backlog on its task queue, starting a worker", row["id"])
                self._spawn_background(self._start_quietly(row["id"]))

    async def _backlog(self, task_queue: str) -> int:
        """Tasks waiting on the queue, as Temporal reports them (its stats lag by seconds)."""
        total = 0
        for kind in (
            TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        ):
            answer = await self.client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(
                    namespace=self.client.namespace,
                    task_queue=TaskQueue(name=task_queue),
                    task_queue_type=kind,
                    report_stats=True,
                )
            )
            total += answer.stats.approximate_backlog_count
        return total

    async def _start_quietly(self, project_id: UUID) -> None:
        with contextlib.suppress(WorkerClaimedElsewhereError, WorkerStartError, NotFoundError):
            await self.start_worker_for_project(project_id)

    def _spawn_background(self, coro: Any) -> None:
        if self._closing:
            coro.close()
            return
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- claiming and spawning ------------------------------------------------------

    async def _claim_and_spawn(
        self, project_id: UUID, *, restarts: int, restart_of: str | None
    ) -> _Handle:
        if self._closing:
            raise WorkerError("the manager is shutting down")
        async with service_session(self.pool) as conn:
            cur = await conn.execute(sql("registry_project"), {"project_id": project_id})
            project = await cur.fetchone()
            if project is None:
                raise NotFoundError(f"project {project_id} does not exist")
            await conn.execute(
                sql("registry_expire_stale"),
                {
                    "manager_id": self.manager_id,
                    "stale_s": 3 * self.heartbeat_s,
                    "project_id": project_id,
                },
            )
        worker_id = f"worker-{project_id}-{int(time.time() * 1000)}-{uuid.uuid4().hex[:4]}"
        metadata = {
            "manager_id": self.manager_id,
            "manager_pid": os.getpid(),
            "restarts": restarts,
            **({"restart_of": restart_of} if restart_of else {}),
        }
        try:
            async with service_session(self.pool) as conn:
                cur = await conn.execute(
                    sql("registry_claim"),
                    {
                        "worker_id": worker_id,
                        "project_id": project_id,
                        "task_queue": project["task_queue_name"],
                        "host": self.host,
                        "metadata": json.dumps(metadata),
                    },
                )
                row = await cur.fetchone()
        except psycopg.errors.UniqueViolation:
            raise WorkerClaimedElsewhereError(
                f"project {project_id} already has an active worker of another manager"
            ) from None
        assert row is not None
        handle = _Handle(
            project_id=project_id,
            task_queue=project["task_queue_name"],
            worker_id=worker_id,
            row_id=row["id"],
            restarts=restarts,
        )
        self._handles[project_id] = handle
        try:
            bundle = await self._bundle(project_id, handle.task_queue)
            await self._spawn(handle, bundle)
        except Exception as exc:
            self._handles.pop(project_id, None)
            await self._set_status(handle, "failed", {"reason": "start_failed", "error": str(exc)})
            raise WorkerStartError(
                f"cannot start the worker of project {project_id}: {exc}"
            ) from exc
        return handle

    async def _bundle(self, project_id: UUID, task_queue: str) -> list[codestore.CodeBundleEntry]:
        open_types = await self._open_types(task_queue)
        async with service_session(self.pool) as conn:
            return await codestore.load_workflows_for_project(
                conn, project_id, extra_workflow_types=sorted(open_types)
            )

    async def _open_types(self, task_queue: str) -> set[str]:
        """Workflow types with open runs on the queue, e.g. old versions started from outside
        runloom, which have no execution row but still need their code."""
        quoted = task_queue.replace("\\", "\\\\").replace("'", "\\'")
        types: set[str] = set()
        try:
            async for execution in self.client.list_workflows(
                f"TaskQueue = '{quoted}' AND ExecutionStatus = 'Running'", limit=_MAX_OPEN_TYPES
            ):
                types.add(execution.workflow_type)
        except Exception as exc:  # visibility is a bonus; the database list still stands
            log.warning("cannot list open runs on %s: %s", task_queue, exc)
        return types

    def _entries(
        self, project_id: UUID, bundle: list[codestore.CodeBundleEntry]
    ) -> tuple[BundleEntry, ...]:
        return tuple(
            BundleEntry(
                module=entry.module_base(project_id),
                workflow_type=entry.workflow_type,
                version=entry.version,
                workflow_code=entry.workflow_code,
                activities_code=entry.activities_code,
            )
            for entry in bundle
        )

    async def _spawn(self, handle: _Handle, bundle: list[codestore.CodeBundleEntry]) -> None:
        config = self.client.service_client.config
        start = StartMessage(
            task_queue=handle.task_queue,
            temporal_address=config.target_host,
            temporal_namespace=self.client.namespace,
            identity=f"{handle.worker_id}@{self.host}",
            heartbeat_s=self.heartbeat_s,
            graceful_shutdown_s=self.graceful_shutdown_s,
            bundle=self._entries(handle.project_id, bundle),
        )
        proc = await asyncio.create_subprocess_exec(
            *worker_command(python=self.python),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=worker_environment(
                temporal_address=config.target_host,
                temporal_namespace=self.client.namespace,
                memory_mb=self.memory_mb,
            ),
            # Its own process group: a signal to the manager's group (Ctrl-C) does not hit
            # it, and stopping it can reach everything it started.
            start_new_session=True,
            limit=16 * 1024 * 1024,
        )
        handle.proc = proc
        handle.code_ids = frozenset(e.code_id for e in bundle)
        assert proc.stdin is not None
        proc.stdin.write((json.dumps(start.to_json()) + "\n").encode())
        await proc.stdin.drain()
        handle.supervisor = asyncio.create_task(self._supervise(handle))

    async def _wait_ready(self, handle: _Handle) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(handle.ready), self.start_timeout_s)
        except TimeoutError:
            if handle.proc is not None and handle.proc.returncode is None:
                _kill_group(handle.proc.pid)
            raise WorkerStartError(
                f"the worker of project {handle.project_id} did not report ready within "
                f"{self.start_timeout_s:g} s"
            ) from None

    # --- supervision ----------------------------------------------------------------

    async def _supervise(self, handle: _Handle) -> None:
        proc = handle.proc
        assert proc is not None and proc.stdout is not None and proc.stderr is not None
        stderr_task = asyncio.create_task(self._drain_stderr(handle, proc.stderr))
        last_error: str | None = None
        try:
            while True:
                line = await proc.stdout.readline()
                if not line:
                    break
                handle.last_message = time.monotonic()
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                kind = message.get("type")
                if kind == "ready":
                    handle.loaded = tuple(message.get("loaded", ()))
                    handle.status = "running"
                    await self._mark_running(handle, message)
                    if not handle.ready.done():
                        handle.ready.set_result(None)
                elif kind == "heartbeat":
                    await self._on_heartbeat(handle, message)
                elif kind in ("reloaded", "reload_failed"):
                    if handle.reload_reply is not None and not handle.reload_reply.done():
                        handle.reload_reply.set_result(message)
                elif kind == "error":
                    last_error = str(message.get("message"))
                elif kind == "stopped":
                    handle.tasks = (message["tasks_completed"], message["tasks_failed"])
            code = await proc.wait()
        finally:
            await asyncio.gather(stderr_task, return_exceptions=True)
            handle.exited.set()
        if handle.stopping:
            return
        await self._crashed(handle, exit_code=code, error=last_error)

    async def _drain_stderr(self, handle: _Handle, stream: asyncio.StreamReader) -> None:
        # Always read it: a full pipe would block the worker on its next log line.
        while line := await stream.readline():
            text = line.decode("utf-8", "replace").rstrip()
            handle.stderr_tail.append(text)
            log.debug("[%s] %s", handle.worker_id, text)

    async def _mark_running(self, handle: _Handle, message: Mapping[str, Any]) -> None:
        async with service_session(self.pool) as conn:
            await conn.execute(
                sql("registry_running"),
                {
                    "id": handle.row_id,
                    "process_id": str(
                        message.get("pid") or (handle.proc.pid if handle.proc else "")
                    ),
                    "metadata": json.dumps(
                        {"loaded": list(handle.loaded), "startup_ms": message.get("startup_ms")}
                    ),
                },
            )

    async def _on_heartbeat(self, handle: _Handle, message: Mapping[str, Any]) -> None:
        tasks = (int(message.get("tasks_completed", 0)), int(message.get("tasks_failed", 0)))
        if tasks != handle.tasks:
            handle.last_busy = time.monotonic()
        handle.tasks = tasks
        if time.monotonic() - handle.started_at > self.stable_after_s:
            self._failures.pop(handle.project_id, None)
        still_ours = await self._write_heartbeat(
            handle,
            {
                "cpu": min(float(message.get("cpu_percent", 0.0)), 999.99),
                "memory_mb": round(float(message.get("rss_mb", 0.0))),
            },
        )
        if not still_ours and not handle.stopping:
            # Another manager declared this row stale (we were too slow): it owns the
            # project now, so this process must go.
            log.warning("project %s: lost ownership of %s", handle.project_id, handle.worker_id)
            self._spawn_background(
                self.stop_worker_for_project(handle.project_id, reason="lost_ownership")
            )

    async def _write_heartbeat(self, handle: _Handle, figures: Mapping[str, Any]) -> bool:
        async with service_session(self.pool) as conn:
            cur = await conn.execute(
                sql("registry_heartbeat"),
                {
                    "id": handle.row_id,
                    "cpu": figures.get("cpu"),
                    "memory_mb": figures.get("memory_mb"),
                    "completed": handle.tasks[0],
                    "failed": handle.tasks[1],
                    "metadata": json.dumps({"loaded": list(handle.loaded)}),
                },
            )
            return await cur.fetchone() is not None

    async def _set_status(self, handle: _Handle, status: str, metadata: Mapping[str, Any]) -> None:
        async with service_session(self.pool) as conn:
            await conn.execute(
                sql("registry_set_status"),
                {
                    "id": handle.row_id,
                    "status": status,
                    "completed": handle.tasks[0],
                    "failed": handle.tasks[1],
                    "metadata": json.dumps(metadata),
                },
            )

    async def _crashed(self, handle: _Handle, *, exit_code: int, error: str | None) -> None:
        if self._handles.get(handle.project_id) is handle:
            del self._handles[handle.project_id]
        handle.status = "failed"
        tail = "\n".join(handle.stderr_tail)
        description = error or _describe_exit(exit_code)
        if handle.silent:
            description = f"no heartbeat from the worker for {self.hung_after_s:g} s; killed"
        failures = self._failures[handle.project_id] = self._failures[handle.project_id] + 1
        give_up = failures > self.max_restarts or self._closing
        metadata: dict[str, Any] = {
            "reason": "crash_loop" if give_up and not self._closing else "crashed",
            "error": description,
            "exit_code": exit_code,
            "stderr_tail": tail[-4000:],
            "consecutive_failures": failures,
        }
        if give_up and not self._closing:
            metadata["error"] = (
                f"{description}; gave up after {failures} consecutive failures "
                f"(restart it explicitly once fixed)"
            )
        await self._set_status(handle, "failed", metadata)
        if not handle.ready.done():
            handle.ready.set_exception(
                WorkerStartError(f"the worker exited before it was ready: {description}")
            )
            handle.ready.exception()  # retrieved here; waiters get it through shield
        if give_up:
            log.error(
                "project %s: worker crash loop, giving up: %s", handle.project_id, description
            )
            return
        delay = min(self.backoff_initial_s * 2 ** (failures - 1), self.backoff_max_s)
        log.warning(
            "project %s: worker died (%s); restarting in %.1f s",
            handle.project_id,
            description,
            delay,
        )
        self._spawn_background(self._restart_later(handle, delay, failures))

    async def _restart_later(self, previous: _Handle, delay: float, failures: int) -> None:
        await asyncio.sleep(delay)
        async with self._locks[previous.project_id]:
            if previous.project_id in self._handles or self._closing:
                return
            try:
                handle = await self._claim_and_spawn(
                    previous.project_id, restarts=failures, restart_of=previous.worker_id
                )
            except (WorkerClaimedElsewhereError, NotFoundError):
                return
            except WorkerError:
                # Spawning itself failed (not the process): count it and try again later.
                failures = self._failures[previous.project_id] = failures + 1
                if failures <= self.max_restarts:
                    delay = min(self.backoff_initial_s * 2 ** (failures - 1), self.backoff_max_s)
                    self._spawn_background(self._restart_later(previous, delay, failures))
                return
        with contextlib.suppress(WorkerStartError):
            await self._wait_ready(handle)

    async def _stop(self, handle: _Handle, *, reason: str) -> None:
        handle.stopping = True
        handle.status = "stopping"
        await self._set_status(handle, "stopping", {"reason": reason})
        proc = handle.proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(handle.exited.wait(), self.graceful_shutdown_s + 5)
            except TimeoutError:
                _kill_group(proc.pid)
                await handle.exited.wait()
        elif proc is not None:
            await handle.exited.wait()
        # The group may hold grandchildren the worker started; none outlive it.
        if proc is not None:
            _kill_group(proc.pid)
        handle.status = "stopped"
        await self._set_status(handle, "stopped", {"reason": reason})
        if self._handles.get(handle.project_id) is handle:
            del self._handles[handle.project_id]


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the worker process was killed by {name}"
    return f"the worker process exited with code {code}"
