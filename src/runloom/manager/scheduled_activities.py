"""The manager's side of schedule triggers: the activities of the scheduled-run workflow
(runloom.manager.scheduled_run) and the Temporal worker that serves them and it on the
platform's task queue. Every manager serves it, in the shared namespace and in each
namespace that holds schedules, so any one of them may fire a schedule.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.worker import Worker

from runloom import naming
from runloom.db.pool import Pool
from runloom.db.session import service_session, user_session
from runloom.errors import NotFoundError, QuotaExceededError
from runloom.manager.scheduled_run import Plan, PlannedRun, RecordRun, ScheduledRun
from runloom.services import namespaces, runs
from runloom.services.triggers import acting_claims
from runloom.settings import Settings
from runloom.store import executions, triggers
from runloom.store import namespaces as store_namespaces
from runloom.store.executions import Origin, StartContext
from runloom.store.installation import PlatformQueue

__all__ = ["ScheduledRunActivities", "serve_schedules"]

log = logging.getLogger(__name__)

# A schedule whose trigger is gone is removed by its next action, unless it is this young:
# its trigger's row may not be committed yet.
_ORPHAN_AFTER = timedelta(minutes=1)
# How often a manager looks for namespaces with new schedules (per_user mode); a new
# schedule's first action waits in Temporal until its namespace is served.
_RESCAN_S = 5.0


def _run_input(configured: Any, *, trigger_id: uuid.UUID, fired_at: str) -> Any:
    if isinstance(configured, dict):
        return {**configured, "_schedule": {"trigger_id": str(trigger_id), "fired_at": fired_at}}
    return configured


class ScheduledRunActivities:
    def __init__(self, *, pool: Pool, client: Client, settings: Settings) -> None:
        self.pool = pool
        self.client = client
        self.settings = settings

    @activity.defn(name="runloom.plan_scheduled_run")
    async def plan(self, trigger_id: str, fired_at: str) -> Plan:
        """The run this fire starts, of the version active now, with a worker serving it."""
        tid = uuid.UUID(trigger_id)
        async with service_session(self.pool) as conn:
            principal = await triggers.trigger_principal(conn, tid)
        if principal is None or principal.type != "schedule":
            await self._remove_orphan(tid)
            return Plan(skip="the trigger no longer exists")
        if not principal.enabled:
            return Plan(skip="the schedule is paused")
        try:
            context = await runs.prepare_start(
                self.pool,
                claims=acting_claims(principal),
                workflow_id=principal.workflow_id,
                settings=self.settings,
            )
        except (NotFoundError, QuotaExceededError) as exc:
            return Plan(skip=str(exc))
        execution_id = uuid.uuid4()
        return Plan(
            run=PlannedRun(
                execution_id=str(execution_id),
                workflow_id=str(context.workflow_id),
                project_id=str(context.project_id),
                key=context.key,
                version=context.version,
                code_id=str(context.code_id),
                workflow_type=context.workflow_type,
                temporal_workflow_id=naming.temporal_workflow_id(
                    key=context.key, execution_id=execution_id
                ),
                task_queue=context.task_queue_name,
                input=_run_input(principal.input, trigger_id=tid, fired_at=fired_at),
                memo=runs.run_memo(context, execution_id=execution_id),
                execution_timeout_s=context.execution_timeout_s,
            )
        )

    @activity.defn(name="runloom.record_scheduled_run")
    async def record(self, request: RecordRun) -> None:
        """Record the started run as its owner; a refusal that retrying cannot fix (the
        workflow was deleted meanwhile) terminates the run, so none goes unrecorded."""
        run = request.run
        tid = uuid.UUID(request.trigger_id)
        async with service_session(self.pool) as conn:
            principal = await triggers.trigger_principal(conn, tid)
        try:
            if principal is None:
                raise NotFoundError(f"trigger {tid} was deleted before its run was recorded")
            async with user_session(self.pool, acting_claims(principal)) as conn:
                if await _already_recorded(conn, uuid.UUID(run.execution_id)):
                    return  # a retry after a commit whose answer was lost
                await executions.insert_execution(
                    conn,
                    execution_id=uuid.UUID(run.execution_id),
                    context=_context(run),
                    input=run.input,
                    temporal_workflow_id=run.temporal_workflow_id,
                    temporal_run_id=request.temporal_run_id or None,
                    origin=Origin(triggered_by="schedule", trigger_id=tid),
                )
        except (
            NotFoundError,
            psycopg.errors.InsufficientPrivilege,
            psycopg.errors.InvalidParameterValue,
        ) as exc:
            await self._terminate(run, reason=str(exc))
            raise ApplicationError(str(exc), non_retryable=True) from exc

    async def _terminate(self, run: PlannedRun, *, reason: str) -> None:
        try:
            await self.client.get_workflow_handle(run.temporal_workflow_id).terminate(
                reason=f"runloom could not record this scheduled run: {reason}"
            )
        except RPCError:
            log.warning("could not terminate unrecorded run %s", run.temporal_workflow_id)

    async def _remove_orphan(self, trigger_id: uuid.UUID) -> None:
        handle = self.client.get_schedule_handle(naming.schedule_id(trigger_id))
        try:
            described = await handle.describe()
            if datetime.now(UTC) - described.info.created_at > _ORPHAN_AFTER:
                await handle.delete()
        except RPCError:
            log.info("schedule of trigger %s is already gone", trigger_id)


def _context(run: PlannedRun) -> StartContext:
    return StartContext(
        workflow_id=uuid.UUID(run.workflow_id),
        key=run.key,
        project_id=uuid.UUID(run.project_id),
        task_queue_name=run.task_queue,
        code_id=uuid.UUID(run.code_id),
        version=run.version,
        worker_ready=True,
        open_runs=0,
    )


async def _already_recorded(conn: executions.Conn, execution_id: uuid.UUID) -> bool:
    try:
        await executions.get_execution(conn, execution_id)
    except NotFoundError:
        return False
    return True


async def serve_schedules(
    *, client: Client, pool: Pool, settings: Settings, stop: asyncio.Event
) -> None:
    """Serve this installation's platform queue until ``stop`` is set: in the shared
    namespace, and in every namespace of its own that holds schedules (per_user mode: a
    schedule's action runs in its schedule's namespace, and starts its run there as a
    child). Namespaces are looked for every few seconds; a worker that fails is started
    again at the next look."""
    queue = await PlatformQueue(pool).name()
    served: dict[str | None, tuple[Worker, asyncio.Task[None]]] = {}
    try:
        while not stop.is_set():
            for namespace in await _wanted_namespaces(pool, served):
                bound = namespaces.client_for(client, namespace)
                worker = _platform_worker(bound, queue=queue, pool=pool, settings=settings)
                worker_task = asyncio.create_task(
                    _run_worker(worker, queue=queue, namespace=namespace)
                )
                served[namespace] = (worker, worker_task)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_RESCAN_S):
                    await stop.wait()
    finally:
        await asyncio.gather(*(w.shutdown() for w, _ in served.values()), return_exceptions=True)
        await asyncio.gather(*(t for _, t in served.values()), return_exceptions=True)


async def _wanted_namespaces(
    pool: Pool, served: dict[str | None, tuple[Worker, asyncio.Task[None]]]
) -> set[str | None]:
    """Namespaces to start serving now (forgetting those whose worker ended)."""
    for namespace, (_, task) in list(served.items()):
        if task.done():
            del served[namespace]
    wanted: set[str | None] = {None}
    try:
        async with service_session(pool) as conn:
            wanted |= await store_namespaces.schedule_namespaces(conn)
    except psycopg.Error as exc:  # the shared namespace is served regardless
        log.warning("cannot list namespaces with schedules: %s", exc)
    return wanted - served.keys()


def _platform_worker(client: Client, *, queue: str, pool: Pool, settings: Settings) -> Worker:
    activities = ScheduledRunActivities(pool=pool, client=client, settings=settings)
    return Worker(
        client,
        task_queue=queue,
        workflows=[ScheduledRun],
        activities=[activities.plan, activities.record],
    )


async def _run_worker(worker: Worker, *, queue: str, namespace: str | None) -> None:
    try:
        await worker.run()
    except Exception:
        log.exception("the platform queue %s stopped in namespace %s", queue, namespace)
