"""Executions: list, read, follow live (server-sent events), signal, cancel, terminate,
and recover (re-run, retry from the failed step)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import StreamingResponse

from runloom import naming
from runloom.api import live_stream, stream_tickets
from runloom.api.deps import (
    START_LIMITS,
    CurrentUser,
    LiveDep,
    PoolDep,
    SettingsDep,
    StartRateLimit,
    StreamUser,
    TemporalClientDep,
    origin_of,
)
from runloom.api.schemas import (
    Accepted,
    ExecutionEnvelope,
    ExecutionList,
    RerunBody,
    SignalBody,
    StreamTicket,
    TerminateBody,
)
from runloom.db.session import user_session
from runloom.models import ExecutionStatus, TriggeredBy
from runloom.services import recovery, runs
from runloom.store import executions
from runloom.store.projects import get_project
from runloom.store.workflows import get_workflow

router = APIRouter(prefix="/executions", tags=["executions"])


@router.get("")
async def list_executions(
    user: CurrentUser,
    pool: PoolDep,
    settings: SettingsDep,
    workflow_id: uuid.UUID | None = None,
    project_id: uuid.UUID | None = None,
    status_: Annotated[ExecutionStatus | None, Query(alias="status")] = None,
    triggered_by: TriggeredBy | None = None,
    since: Annotated[datetime | None, Query(description="Started at or after")] = None,
    until: Annotated[datetime | None, Query(description="Started before")] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Text in input, output or error")
    ] = None,
    cursor: Annotated[
        str | None, Query(max_length=200, description="`next_cursor` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ExecutionList:
    """Run history, newest first, a page at a time, with the matching runs counted."""
    where = executions.HistoryFilter(
        workflow_id=workflow_id,
        project_id=project_id,
        status=status_,
        triggered_by=triggered_by,
        since=since,
        until=until,
        text=q,
    )
    async with user_session(pool, user.claims) as conn:
        # A filter naming someone else's object is refused, not answered with an empty list.
        if workflow_id is not None:
            await get_workflow(conn, workflow_id)
        if project_id is not None:
            await get_project(conn, project_id)
        page = await executions.list_executions(conn, where=where, limit=limit, cursor=cursor)
        counts = await executions.count_executions(conn, where=where)
    return ExecutionList(
        executions=[runs.with_ui_link(e, settings=settings) for e in page.executions],
        next_cursor=page.next_cursor,
        counts=counts,
        total=counts.get(status_, 0) if status_ else sum(counts.values()),
    )


@router.get("/{execution_id}")
async def get_execution(
    execution_id: uuid.UUID, user: CurrentUser, pool: PoolDep, settings: SettingsDep
) -> ExecutionEnvelope:
    async with user_session(pool, user.claims) as conn:
        execution = await executions.get_execution(conn, execution_id)
    return ExecutionEnvelope(execution=runs.with_ui_link(execution, settings=settings))


@router.post("/{execution_id}/stream-ticket")
async def stream_ticket(execution_id: uuid.UUID, user: CurrentUser, pool: PoolDep) -> StreamTicket:
    """A single-use ticket that opens this execution's live stream within 30 s, so that
    the login token never goes into a URL (EventSource cannot send headers)."""
    ticket = await stream_tickets.issue(pool, user, execution_id)
    return StreamTicket(ticket=ticket, expires_in_s=stream_tickets.TICKET_TTL_S)


@router.get(
    "/{execution_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}},
        429: {"description": "Too many live streams open"},
    },
)
async def execution_events(
    execution_id: uuid.UUID,
    request: Request,
    user: StreamUser,
    pool: PoolDep,
    settings: SettingsDep,
    client: TemporalClientDep,
    hub: LiveDep,
) -> StreamingResponse:
    """`event: execution` with the whole execution on every change, then `event: end`.

    Changes are pushed (runloom.api.live): while nothing happens to the run, the stream
    costs no database or Temporal call.
    """
    # Subscribed before the first read, so that nothing between the two is missed.
    sub = hub.subscribe(execution_id, user_id=user.user_id)
    try:
        execution = await live_stream.read(
            pool, claims=user.claims, execution_id=execution_id, settings=settings
        )
        # A retry shares its Temporal workflow id, under which its worker reports, with
        # the run it was reset from: follow that id too, before asking for the states.
        root = naming.execution_id_of(execution.temporal_workflow_id or "")
        if root is not None:
            hub.alias(sub, root)
        execution = await live_stream.with_live_states(client, execution)
    except BaseException:
        hub.unsubscribe(sub)
        raise

    async def stream() -> AsyncIterator[str]:
        try:
            async for chunk in live_stream.events(
                sub,
                execution,
                reread=lambda: live_stream.read(
                    pool, claims=user.claims, execution_id=execution_id, settings=settings
                ),
                disconnected=request.is_disconnected,
            ):
                yield chunk
        finally:
            hub.unsubscribe(sub)

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


@router.post("/{execution_id}/terminate", status_code=status.HTTP_202_ACCEPTED)
async def terminate_execution(
    execution_id: uuid.UUID,
    body: TerminateBody,
    user: CurrentUser,
    pool: PoolDep,
    client: TemporalClientDep,
) -> Accepted:
    """End an open run at once, without the clean-up a cancel allows; it ends `terminated`."""
    await runs.terminate_run(
        pool, client, claims=user.claims, execution_id=execution_id, reason=body.reason
    )
    return Accepted(detail="termination requested")


@router.post("/{execution_id}/rerun", status_code=status.HTTP_201_CREATED, responses=START_LIMITS)
async def rerun_execution(
    execution_id: uuid.UUID,
    body: RerunBody,
    user: CurrentUser,
    _: StartRateLimit,
    pool: PoolDep,
    client: TemporalClientDep,
    settings: SettingsDep,
) -> ExecutionEnvelope:
    """A new run of the same workflow with the same input, on the active version or on
    `version`; it names this one in `rerun_of`."""
    execution = await recovery.rerun(
        pool,
        client,
        claims=user.claims,
        execution_id=execution_id,
        version=body.version,
        settings=settings,
        origin=origin_of(user),
    )
    return ExecutionEnvelope(execution=runs.with_ui_link(execution, settings=settings))


@router.post(
    "/{execution_id}/retry",
    status_code=status.HTTP_201_CREATED,
    responses={
        **START_LIMITS,
        409: {"description": "The run is still open, completed, or has a retry running"},
    },
)
async def retry_execution(
    execution_id: uuid.UUID,
    user: CurrentUser,
    _: StartRateLimit,
    pool: PoolDep,
    client: TemporalClientDep,
    settings: SettingsDep,
) -> ExecutionEnvelope:
    """Continue a failed, timed-out, terminated or cancelled run from its failed step, on
    the same version: the steps that completed are not run again and keep their outputs
    (a Temporal workflow reset). The new execution names this one in `retry_of`."""
    execution = await recovery.retry(
        pool, client, claims=user.claims, execution_id=execution_id, settings=settings
    )
    return ExecutionEnvelope(execution=runs.with_ui_link(execution, settings=settings))
