"""Executions: list, read, follow live (server-sent events), signal, cancel."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import StreamingResponse

from runloom import naming
from runloom.api.deps import (
    CurrentUser,
    PoolDep,
    SettingsDep,
    StreamUser,
    TemporalClientDep,
)
from runloom.api.schemas import Accepted, ExecutionEnvelope, ExecutionList, SignalBody
from runloom.db.session import user_session
from runloom.models import OPEN_STATUSES, Execution, ExecutionStatus
from runloom.services import runs
from runloom.store import executions
from runloom.store.projects import get_project
from runloom.store.workflows import get_workflow

router = APIRouter(prefix="/executions", tags=["executions"])

# How often a live stream re-reads the run; the canvas wants sub-second updates.
STREAM_INTERVAL_S = 0.25
KEEPALIVE_S = 15.0


@router.get("")
async def list_executions(
    user: CurrentUser,
    pool: PoolDep,
    settings: SettingsDep,
    workflow_id: uuid.UUID | None = None,
    project_id: uuid.UUID | None = None,
    status_: Annotated[ExecutionStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ExecutionList:
    async with user_session(pool, user.claims) as conn:
        # A filter naming someone else's object is refused, not answered with an empty list.
        if workflow_id is not None:
            await get_workflow(conn, workflow_id)
        if project_id is not None:
            await get_project(conn, project_id)
        found = await executions.list_executions(
            conn, workflow_id=workflow_id, project_id=project_id, status=status_, limit=limit
        )
    return ExecutionList(executions=[runs.with_ui_link(e, settings=settings) for e in found])


@router.get("/{execution_id}")
async def get_execution(
    execution_id: uuid.UUID, user: CurrentUser, pool: PoolDep, settings: SettingsDep
) -> ExecutionEnvelope:
    async with user_session(pool, user.claims) as conn:
        execution = await executions.get_execution(conn, execution_id)
    return ExecutionEnvelope(execution=runs.with_ui_link(execution, settings=settings))


@router.get(
    "/{execution_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def execution_events(
    execution_id: uuid.UUID,
    request: Request,
    user: StreamUser,
    pool: PoolDep,
    settings: SettingsDep,
    client: TemporalClientDep,
) -> StreamingResponse:
    """`event: execution` with the whole execution on every change, then `event: end`."""
    async with user_session(pool, user.claims) as conn:
        await executions.get_execution(conn, execution_id)

    async def live_node_states(execution: Execution) -> dict[str, Any] | None:
        if not execution.temporal_workflow_id:
            return None
        handle = client.get_workflow_handle(
            execution.temporal_workflow_id, run_id=execution.temporal_run_id
        )
        try:
            async with asyncio.timeout(1.0):
                states = await handle.query(naming.NODE_STATES_QUERY)
        except Exception:  # no worker polling yet, or it is restarting
            return None
        return states if isinstance(states, dict) else None

    async def stream() -> AsyncIterator[str]:
        last = ""
        quiet_for = 0.0
        while not await request.is_disconnected():
            async with user_session(pool, user.claims) as conn:
                execution = runs.with_ui_link(
                    await executions.get_execution(conn, execution_id), settings=settings
                )
            is_open = execution.status in OPEN_STATUSES
            if is_open:
                states = await live_node_states(execution)
                if states is not None:
                    execution = execution.model_copy(update={"node_states": states})
            payload = execution.model_dump_json()
            if payload != last:
                last, quiet_for = payload, 0.0
                yield f"event: execution\ndata: {payload}\n\n"
            elif quiet_for >= KEEPALIVE_S:
                quiet_for = 0.0
                yield ": keep-alive\n\n"
            if not is_open:
                yield f"event: end\ndata: {execution.model_dump_json(include={'id', 'status'})}\n\n"
                return
            await asyncio.sleep(STREAM_INTERVAL_S)
            quiet_for += STREAM_INTERVAL_S

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post("/{execution_id}/signal", status_code=status.HTTP_202_ACCEPTED)
async def signal_execution(
    execution_id: uuid.UUID,
    body: SignalBody,
    user: CurrentUser,
    pool: PoolDep,
    client: TemporalClientDep,
) -> Accepted:
    await runs.signal_run(
        pool,
        client,
        claims=user.claims,
        execution_id=execution_id,
        name=body.name,
        payload=body.payload,
    )
    return Accepted(detail=f"signal {body.name!r} sent")


@router.post("/{execution_id}/cancel", status_code=status.HTTP_202_ACCEPTED)
async def cancel_execution(
    execution_id: uuid.UUID, user: CurrentUser, pool: PoolDep, client: TemporalClientDep
) -> Accepted:
    await runs.cancel_run(pool, client, claims=user.claims, execution_id=execution_id)
    return Accepted(detail="cancellation requested")
