"""One live stream of an execution, as server-sent events: the execution as it is, then
again with each change the hub pushes, until the run has ended."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from temporalio.client import Client

from runloom import naming
from runloom.api.live import Subscription
from runloom.db.pool import Pool
from runloom.db.session import Claims, user_session
from runloom.models import OPEN_STATUSES, Execution
from runloom.services import namespaces, runs
from runloom.settings import Settings
from runloom.store import executions

__all__ = ["KEEPALIVE_S", "events", "read", "with_live_states"]

KEEPALIVE_S = 15.0
_QUERY_TIMEOUT_S = 1.0


async def read(
    pool: Pool, *, claims: Claims, execution_id: uuid.UUID, settings: Settings
) -> Execution:
    """The execution as the user may see it (its row)."""
    async with user_session(pool, claims) as conn:
        return runs.with_ui_link(
            await executions.get_execution(conn, execution_id), settings=settings
        )


async def with_live_states(client: Client, execution: Execution) -> Execution:
    """An open run's node states as its workflow reports them now (a reload in the middle
    of a run shows where it is)."""
    if execution.status not in OPEN_STATUSES:
        return execution
    states = await _queried_states(client, execution)
    return execution.model_copy(update={"node_states": states}) if states else execution


async def _queried_states(client: Client, execution: Execution) -> dict[str, Any] | None:
    if not execution.temporal_workflow_id:
        return None
    handle = namespaces.client_for(client, execution.temporal_namespace).get_workflow_handle(
        execution.temporal_workflow_id, run_id=execution.temporal_run_id
    )
    try:
        async with asyncio.timeout(_QUERY_TIMEOUT_S):
            states = await handle.query(naming.NODE_STATES_QUERY)
    except Exception:  # no worker polling yet, or it is restarting
        return None
    return states if isinstance(states, dict) else None


async def events(
    sub: Subscription,
    execution: Execution,
    *,
    reread: Callable[[], Awaitable[Execution]],
    disconnected: Callable[[], Awaitable[bool]],
) -> AsyncIterator[str]:
    yield _event("execution", execution.model_dump_json())
    while execution.status in OPEN_STATUSES:
        try:
            event = await asyncio.wait_for(sub.queue.get(), KEEPALIVE_S)
        except TimeoutError:
            if await disconnected():
                return
            yield ": keep-alive\n\n"
            continue
        if event is None or event.finished:
            updated = await reread()
            # States the worker reported live are fresher than a mid-run row's.
            if updated.status in OPEN_STATUSES:
                updated = updated.model_copy(
                    update={"node_states": {**updated.node_states, **execution.node_states}}
                )
        else:
            updated = execution.model_copy(
                update={"node_states": {**execution.node_states, **event.nodes}}
            )
        if updated != execution:
            execution = updated
            yield _event("execution", execution.model_dump_json())
    yield _event("end", execution.model_dump_json(include={"id", "status"}))


def _event(kind: str, data: str) -> str:
    return f"event: {kind}\ndata: {data}\n\n"
