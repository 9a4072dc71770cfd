"""Starting, signalling and cancelling Temporal runs on behalf of a signed-in user."""

from __future__ import annotations

import uuid
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError

from runloom.data.executions import StartContext, get_execution_row
from runloom.db import sql
from runloom.db.pool import Pool
from runloom.db.session import Claims, user_session
from runloom.errors import InvalidRequestError, RunloomError
from runloom.models import OPEN_STATUSES


class StartFailedError(RunloomError):
    """Temporal refused to start the run; nothing was recorded."""


def temporal_workflow_id(*, key: str, execution_id: uuid.UUID) -> str:
    return f"{key}-{execution_id}"


async def start_run(
    conn: AsyncConnection[DictRow],
    client: Client,
    *,
    claims: Claims,
    context: StartContext,
    input: Any,
) -> dict[str, Any]:
    """Start the run, then record it in the caller's transaction; if recording fails the
    run is terminated.

    Starting first means a refused start leaves no row; terminating on a failed insert
    means no run goes on that runloom does not know about. Either way, nothing phantom.
    The caller's transaction (user session) is the one that read the start context, so a
    start costs one transaction.
    """
    execution_id = uuid.uuid4()
    workflow_id = temporal_workflow_id(key=context.key, execution_id=execution_id)
    try:
        handle = await client.start_workflow(
            context.workflow_type,
            input,
            id=workflow_id,
            task_queue=context.task_queue_name,
            memo={
                "runloom_execution_id": str(execution_id),
                "runloom_project_id": str(context.project_id),
                "runloom_workflow_id": str(context.workflow_id),
            },
        )
    except RPCError as exc:
        raise StartFailedError(f"Temporal refused to start {context.workflow_type}: {exc}") from exc
    try:
        cur = await conn.execute(
            sql("executions_insert"),
            {
                "id": execution_id,
                "workflow_id": context.workflow_id,
                "project_id": context.project_id,
                "input": Jsonb(input),
                "temporal_workflow_id": workflow_id,
                "temporal_run_id": handle.first_execution_run_id or handle.result_run_id,
                "code_version": context.version,
                "workflow_type": context.workflow_type,
                "task_queue_name": context.task_queue_name,
                "created_by": claims["sub"],
            },
        )
        row = await cur.fetchone()
        assert row is not None
        return row
    except BaseException:
        await handle.terminate(reason="runloom could not record this run")
        raise


async def _open_handle(
    pool: Pool, client: Client, *, claims: Claims, execution_id: uuid.UUID
) -> WorkflowHandle[Any, Any]:
    async with user_session(pool, claims) as conn:
        row = await get_execution_row(conn, execution_id)
    if row["status"] not in OPEN_STATUSES:
        raise InvalidRequestError(
            f"execution {execution_id} has already ended ({row['status']}); "
            "only a running execution can be signalled or cancelled"
        )
    return client.get_workflow_handle(row["temporal_workflow_id"], run_id=row["temporal_run_id"])


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
