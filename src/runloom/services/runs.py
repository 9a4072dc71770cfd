"""Starting, signalling, cancelling and terminating Temporal runs on behalf of a signed-in
user."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.service import RPCError

from runloom import naming
from runloom.db.pool import Pool
from runloom.db.session import Claims, user_session
from runloom.errors import InvalidRequestError, RunloomError
from runloom.models import OPEN_STATUSES, Execution
from runloom.services import namespaces, quotas, worker_requests
from runloom.services.outcome import Outcome, outcome_of_failure
from runloom.settings import Settings
from runloom.store import executions
from runloom.store.executions import MANUAL, Conn, Origin, StartContext

__all__ = [
    "StartFailedError",
    "cancel_run",
    "checked_wait",
    "prepare_start",
    "run_memo",
    "signal_run",
    "start_execution",
    "start_run",
    "terminate_run",
    "wait_for_outcome",
    "with_ended",
    "with_ui_link",
]


class StartFailedError(RunloomError):
    """Temporal refused to start the run; nothing was recorded."""


def with_ui_link(execution: Execution, *, settings: Settings) -> Execution:
    """The execution with the link to its run in the Temporal Web UI."""
    if not (execution.temporal_workflow_id and execution.temporal_run_id):
        return execution
    url = naming.temporal_ui_url(
        base=settings.temporal_ui_url,
        namespace=execution.temporal_namespace or settings.temporal_namespace,
        workflow_id=execution.temporal_workflow_id,
        run_id=execution.temporal_run_id,
    )
    return execution.model_copy(update={"temporal_ui_url": url})


async def start_run(
    conn: Conn,
    client: Client,
    *,
    claims: Claims,
    context: StartContext,
    input: Any,
    origin: Origin = MANUAL,
) -> Execution:
    """Start the run, then record it in the caller's transaction; if recording fails the
    run is terminated.

    Starting first means a refused start leaves no row; terminating on a failed insert
    means no run goes on that runloom does not know about. Either way, nothing phantom.
    The caller's transaction (user session) is the one that read the start context, so a
    start costs one transaction.
    """
    execution_id = uuid.uuid4()
    workflow_id = naming.temporal_workflow_id(key=context.key, execution_id=execution_id)
    try:
        handle = await namespaces.client_for(client, context.temporal_namespace).start_workflow(
            context.workflow_type,
            input,
            id=workflow_id,
            task_queue=context.task_queue_name,
            memo=run_memo(context, execution_id=execution_id),
            execution_timeout=context.execution_timeout,
        )
    except RPCError as exc:
        raise StartFailedError(f"Temporal refused to start {context.workflow_type}: {exc}") from exc
    try:
        return await executions.insert_execution(
            conn,
            execution_id=execution_id,
            context=context,
            input=input,
            temporal_workflow_id=workflow_id,
            temporal_run_id=handle.first_execution_run_id or handle.result_run_id,
            origin=origin,
        )
    except BaseException:
        await handle.terminate(reason="runloom could not record this run")
        raise


async def start_execution(
    pool: Pool,
    client: Client,
    *,
    claims: Claims,
    workflow_id: uuid.UUID,
    version: int | None,
    input: Any,
    settings: Settings,
    origin: Origin = MANUAL,
) -> Execution:
    """Read what to start, start it in Temporal, record it: one transaction when the
    project's worker already serves the version, which is the common case, in three
    round trips to Postgres (pipelined: BEGIN, claims and the read; the insert; COMMIT).

    The user's quotas are checked first: open runs always, workers when one must be
    asked for (QuotaExceededError).
    """
    async with user_session(pool, claims, pipeline=True) as conn:
        context = await _checked_context(
            conn, claims=claims, workflow_id=workflow_id, version=version, settings=settings
        )
        if context.worker_ready:
            return await start_run(
                conn, client, claims=claims, context=context, input=input, origin=origin
            )
    # Waiting for a worker must not hold a pooled connection: the wait itself needs one.
    await worker_requests.request_worker(
        pool, project_id=context.project_id, workflow_type=context.workflow_type
    )
    async with user_session(pool, claims) as conn:
        return await start_run(
            conn, client, claims=claims, context=context, input=input, origin=origin
        )


async def prepare_start(
    pool: Pool,
    *,
    claims: Claims,
    workflow_id: uuid.UUID,
    settings: Settings,
    version: int | None = None,
) -> StartContext:
    """What a start of the active version (or of ``version``) needs, quotas checked and a
    worker serving it: for starts that Temporal itself makes (a schedule's run is a child
    workflow, a retry is a reset)."""
    async with user_session(pool, claims) as conn:
        context = await _checked_context(
            conn, claims=claims, workflow_id=workflow_id, version=version, settings=settings
        )
    if not context.worker_ready:
        await worker_requests.request_worker(
            pool, project_id=context.project_id, workflow_type=context.workflow_type
        )
    return context


def run_memo(context: StartContext, *, execution_id: uuid.UUID) -> dict[str, str]:
    """The memo of every run runloom starts: the tracker checks it is the recorded run."""
    return {
        naming.MEMO_EXECUTION_ID: str(execution_id),
        naming.MEMO_PROJECT_ID: str(context.project_id),
        naming.MEMO_WORKFLOW_ID: str(context.workflow_id),
    }


async def _checked_context(
    conn: Conn,
    *,
    claims: Claims,
    workflow_id: uuid.UUID,
    version: int | None,
    settings: Settings,
) -> StartContext:
    context = await executions.start_context(
        conn, workflow_id=workflow_id, version=version, open_up_to=quotas.OPEN_RUNS.limit(settings)
    )
    quotas.check_new_run(open_runs=context.open_runs, settings=settings)
    if not context.worker_ready:
        await quotas.check_new_worker(
            conn, user_id=claims["sub"], project_id=context.project_id, settings=settings
        )
    return context


async def _open_handle(
    pool: Pool, client: Client, *, claims: Claims, execution_id: uuid.UUID
) -> WorkflowHandle[Any, Any]:
    async with user_session(pool, claims) as conn:
        execution = await executions.get_execution(conn, execution_id)
    if execution.status not in OPEN_STATUSES or execution.temporal_workflow_id is None:
        raise InvalidRequestError(
            f"execution {execution_id} has already ended ({execution.status}); "
            "only a running execution can be signalled, cancelled or terminated"
        )
    return namespaces.client_for(client, execution.temporal_namespace).get_workflow_handle(
        execution.temporal_workflow_id, run_id=execution.temporal_run_id
    )


async def signal_run(
    pool: Pool,
    client: Client,
    *,
    claims: Claims,
    execution_id: uuid.UUID,
    name: str,
    payload: Any,
) -> None:
    handle = await _open_handle(pool, client, claims=claims, execution_id=execution_id)
    try:
        await handle.signal(name, payload)
    except RPCError as exc:
        raise InvalidRequestError(f"Temporal refused the signal {name!r}: {exc}") from exc


async def cancel_run(
    pool: Pool, client: Client, *, claims: Claims, execution_id: uuid.UUID
) -> None:
    handle = await _open_handle(pool, client, claims=claims, execution_id=execution_id)
    try:
        await handle.cancel()
    except RPCError as exc:
        raise InvalidRequestError(f"Temporal refused to cancel the run: {exc}") from exc


async def terminate_run(
    pool: Pool, client: Client, *, claims: Claims, execution_id: uuid.UUID, reason: str | None
) -> None:
    """End the run at once: unlike a cancel, the workflow gets no chance to clean up."""
    handle = await _open_handle(pool, client, claims=claims, execution_id=execution_id)
    try:
        await handle.terminate(reason=reason or "terminated through runloom")
    except RPCError as exc:
        raise InvalidRequestError(f"Temporal refused to terminate the run: {exc}") from exc


def checked_wait(wait_s: float, *, settings: Settings) -> float:
    """``wait_s`` if a request may wait that long for a run's end (InvalidRequestError)."""
    longest = settings.runloom_webhook_max_wait_s
    if not 0 < wait_s <= longest:
        raise InvalidRequestError(
            f"wait must be more than 0 and at most {longest:g} seconds "
            f"(RUNLOOM_WEBHOOK_MAX_WAIT_S), not {wait_s:g}; without wait the answer comes "
            "at once, and GET /api/executions/{id} shows how the run ends"
        )
    return wait_s


async def wait_for_outcome(
    client: Client, execution: Execution, *, wait_s: float
) -> Outcome | None:
    """How the run ended, if it ends within ``wait_s``; else None (it goes on). The
    tracker records the end as for any run: this only listens for it."""
    if execution.temporal_workflow_id is None:
        return None
    handle = namespaces.client_for(client, execution.temporal_namespace).get_workflow_handle(
        execution.temporal_workflow_id, run_id=execution.temporal_run_id
    )
    try:
        async with asyncio.timeout(wait_s):
            output = await handle.result(follow_runs=True)
    except TimeoutError:
        return None
    except WorkflowFailureError as exc:
        return outcome_of_failure(exc)
    return Outcome(status="completed", output=output, error=None)


def with_ended(execution: Execution, outcome: Outcome) -> Execution:
    """The execution as it ended, before the tracker has written that down."""
    return execution.model_copy(
        update={"status": outcome.status, "output": outcome.output, "error": outcome.error}
    )
