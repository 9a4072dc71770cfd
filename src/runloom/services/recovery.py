"""Recovering from a run that went wrong: start it again from scratch (a re-run), or
continue it from the step that failed (a retry).

A retry is Temporal's workflow reset, not a new start: the reset run's history keeps
every event before the reset point, so the steps that completed there are replayed
(their outputs come back from the history) and never executed again, and Temporal's own
record shows what happened. The reset run is a new run id under the same workflow id,
recorded as a new execution that names the one it retries (``retry_of``); the failed
execution keeps its status.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from runloom.db.pool import Pool
from runloom.db.session import Claims, user_session
from runloom.errors import ConflictError
from runloom.models import OPEN_STATUSES, Execution
from runloom.services import namespaces, runs
from runloom.services.runs import StartFailedError
from runloom.settings import Settings
from runloom.store import executions
from runloom.store.executions import Origin

__all__ = ["RETRYABLE_STATUSES", "ResetPoint", "rerun", "reset_point", "retry"]

# Cancelled runs may be retried too: a cancel is a person's decision, and taking it back
# ("continue where it stopped") is as deliberate as making it.
RETRYABLE_STATUSES = frozenset({"failed", "timed_out", "terminated", "cancelled"})

_ACTIVITY_FAILURES = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: "activity_task_failed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: "activity_task_timed_out_event_attributes",
}


@dataclass(frozen=True, slots=True)
class ResetPoint:
    """Where a retry continues from: the WorkflowTaskCompleted event to reset to, and the
    activity type of the failed step it runs again (None: the run stopped between steps,
    and it continues from its last completed workflow task)."""

    event_id: int
    activity_type: str | None


async def rerun(
    pool: Pool,
    client: Client,
    *,
    claims: Claims,
    execution_id: uuid.UUID,
    version: int | None,
    settings: Settings,
    origin: Origin,
) -> Execution:
    """A new run of the execution's workflow with its input, on ``version`` or the active
    one, through the normal start (quotas, worker), linked by ``rerun_of``."""
    async with user_session(pool, claims) as conn:
        source = await executions.get_execution(conn, execution_id)
    return await runs.start_execution(
        pool,
        client,
        claims=claims,
        workflow_id=source.workflow_id,
        version=version,
        input=source.input,
        settings=settings,
        origin=replace(origin, rerun_of=source.id),
    )


async def retry(
    pool: Pool, client: Client, *, claims: Claims, execution_id: uuid.UUID, settings: Settings
) -> Execution:
    """Continue an ended, not completed run from its failed step, on the same version.

    ConflictError for a run that is open or completed, or whose retry is still running.
    """
    async with user_session(pool, claims) as conn:
        failed = await executions.get_execution(conn, execution_id)
    workflow_id, run_id, version = _retryable(failed)
    client = namespaces.client_for(client, failed.temporal_namespace)
    # A new open run: the user's quota applies, and the version must be served.
    await runs.prepare_start(
        pool, claims=claims, workflow_id=failed.workflow_id, version=version, settings=settings
    )
    point = reset_point(await _history(client, workflow_id=workflow_id, run_id=run_id))
    async with user_session(pool, claims) as conn:
        # A reset terminates the workflow's open run: never while a retry is running.
        await executions.lock_temporal_workflow(conn, temporal_workflow_id=workflow_id)
        running = await executions.open_run_in_workflow(conn, temporal_workflow_id=workflow_id)
        if running is not None:
            raise ConflictError(
                f"execution {running}, a retry of this run, has not ended yet; wait for it "
                "or terminate it before retrying again"
            )
        new_run_id = await _reset(client, failed, workflow_id=workflow_id, run_id=run_id, at=point)
        try:
            return await executions.record_retry(
                conn, execution_id=uuid.uuid4(), retry_of=failed.id, temporal_run_id=new_run_id
            )
        except BaseException:
            # As with a start: no run goes on that runloom does not know about.
            await client.get_workflow_handle(workflow_id, run_id=new_run_id).terminate(
                reason="runloom could not record this retry"
            )
            raise


def _retryable(execution: Execution) -> tuple[str, str, int]:
    """The Temporal workflow id, run id and version of a run a retry may continue."""
    if execution.status in OPEN_STATUSES:
        raise ConflictError(
            f"execution {execution.id} is still {execution.status}; only a run that has "
            "ended can be retried (cancel or terminate it first)"
        )
    if execution.status not in RETRYABLE_STATUSES:
        raise ConflictError(
            f"execution {execution.id} {execution.status}; there is no failed step to retry "
            "from (re-run it to run it again)"
        )
    workflow_id, run_id = execution.temporal_workflow_id, execution.temporal_run_id
    if workflow_id is None or run_id is None or execution.code_version is None:
        raise ConflictError(
            f"execution {execution.id} has no recorded Temporal run to continue; re-run it"
        )
    return workflow_id, run_id, execution.code_version


async def _history(client: Client, *, workflow_id: str, run_id: str) -> list[HistoryEvent]:
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    try:
        return [event async for event in handle.fetch_history_events()]
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise ConflictError(
                "Temporal no longer keeps this run's history (past the namespace's "
                "retention), so it cannot be continued; re-run it"
            ) from exc
        raise StartFailedError(f"Temporal could not read the run's history: {exc}") from exc


async def _reset(
    client: Client, execution: Execution, *, workflow_id: str, run_id: str, at: ResetPoint
) -> str:
    step = "its last completed workflow task"
    if at.activity_type is not None:
        step = f"step {at.activity_type.removeprefix(f'{execution.workflow_type}.')!r}"
    request = ResetWorkflowExecutionRequest(
        namespace=client.namespace,
        workflow_execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
        reason=f"runloom: retry of execution {execution.id} from {step}",
        workflow_task_finish_event_id=at.event_id,
        request_id=str(uuid.uuid4()),
    )
    try:
        response = await client.workflow_service.reset_workflow_execution(request)
    except RPCError as exc:
        raise StartFailedError(f"Temporal refused to reset the run: {exc}") from exc
    return str(response.run_id)


def reset_point(events: Sequence[HistoryEvent]) -> ResetPoint:
    """Where to continue a run that ended without completing (pure, from its history).

    When a step failed (its activity failed or timed out after its retries), the run goes
    back to the workflow task that first scheduled that step: every event before it is
    kept, so the steps that completed are replayed, not executed again, and the new
    workflow task schedules the failed step anew. The step that failed last is the one
    that ended the run; a step whose failure the graph handled came earlier. Otherwise
    (terminated or timed out between steps, cancelled) the run continues from its last
    completed workflow task; never from one after a cancel request, which would only be
    delivered again.
    """
    cancelled_at = next(
        (
            e.event_id
            for e in events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED
        ),
        None,
    )
    failed = _failed_activity(events)
    if failed is not None:
        first = next(
            e.activity_task_scheduled_event_attributes
            for e in events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
            and e.activity_task_scheduled_event_attributes.activity_type.name == failed
        )
        if cancelled_at is None or first.workflow_task_completed_event_id < cancelled_at:
            return ResetPoint(first.workflow_task_completed_event_id, failed)
    completed = [
        e.event_id
        for e in events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
        and (cancelled_at is None or e.event_id < cancelled_at)
    ]
    if not completed:
        raise ConflictError(
            "the run ended before its first workflow task completed, so there is nothing "
            "to continue; re-run it"
        )
    return ResetPoint(completed[-1], None)


def _failed_activity(events: Sequence[HistoryEvent]) -> str | None:
    """The activity type of the step whose failure came last, if one failed."""
    scheduled = {
        e.event_id: e.activity_task_scheduled_event_attributes.activity_type.name
        for e in events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    }
    for event in reversed(events):
        field = _ACTIVITY_FAILURES.get(event.event_type)
        if field is not None:
            name = scheduled.get(getattr(event, field).scheduled_event_id)
            if name is not None:
                return name
    return None
