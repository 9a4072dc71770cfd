"""Follows every open execution to its end and records how it ended.

One tracker leads at a time (a Postgres advisory lock), so several managers can run it
safely. On taking the lead it reconciles every open row with Temporal, so a restart of any
process never leaves an execution stuck as running; the `stats_recorded_at` guard makes
"record the end" idempotent, so statistics count each execution exactly once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowFailureError,
    WorkflowHandle,
)
from temporalio.exceptions import (
    ActivityError,
    CancelledError,
    ChildWorkflowError,
    FailureError,
    TerminatedError,
    TimeoutError,
)
from temporalio.service import RPCError, RPCStatusCode

from runloom.db import sql
from runloom.db.pool import Pool
from runloom.db.session import service_session
from runloom.temporal.statistics import activity_runs, record_execution_statistics
from runloom_runtime.graph import NODE_STATES_MEMO

log = logging.getLogger(__name__)

_LEADER_LOCK = 0x7472616B6572  # any constant shared by every tracker
_NODE_STATES_QUERY = "node_states"


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str
    output: Any
    error: str | None


def describe_failure(exc: BaseException) -> str:
    """The innermost message a person can act on: the user's error, not Temporal's wrapping."""
    cause: BaseException | None = exc
    message = str(exc)
    while cause is not None:
        # Activity and child-workflow errors only wrap the failure that matters.
        if isinstance(cause, FailureError) and not isinstance(
            cause, ActivityError | ChildWorkflowError
        ):
            message = cause.message or message
        cause = cause.__cause__
    return message


def outcome_of_failure(exc: WorkflowFailureError) -> Outcome:
    cause = exc.cause
    if isinstance(cause, CancelledError):
        status = "cancelled"
    elif isinstance(cause, TerminatedError):
        status = "terminated"
    elif isinstance(cause, TimeoutError):
        status = "timed_out"
    else:
        status = "failed"
    return Outcome(status=status, output=None, error=describe_failure(cause or exc))


class ExecutionTracker:
    def __init__(
        self,
        *,
        pool: Pool,
        client: Client,
        database_url: str,
        sweep_interval_s: float = 15.0,
        query_timeout_s: float = 3.0,
    ) -> None:
        self._pool = pool
        self._client = client
        self._database_url = database_url
        self._sweep_interval_s = sweep_interval_s
        self._query_timeout_s = query_timeout_s
        self._following: dict[uuid.UUID, asyncio.Task[None]] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Lead when the lock is free, follow open executions, until `stop` is set."""
        while not stop.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._database_url, autocommit=True
                ) as conn:
                    await self._lead(conn, stop)
            except (psycopg.OperationalError, OSError) as exc:
                log.warning("tracker lost the database (%r); retrying", exc)
            await _wait(stop, 2.0)
        for task in self._following.values():
            task.cancel()
        await asyncio.gather(*self._following.values(), return_exceptions=True)

    async def _lead(self, conn: psycopg.AsyncConnection[Any], stop: asyncio.Event) -> None:
        while not stop.is_set():
            row = await (
                await conn.execute("SELECT pg_try_advisory_lock(%s)", (_LEADER_LOCK,))
            ).fetchone()
            if row and row[0]:
                break
            await _wait(stop, 2.0)
        if stop.is_set():
            return
        await conn.execute("LISTEN runloom_executions")
        await self._sweep()
        loop = asyncio.get_running_loop()
        next_sweep = loop.time() + self._sweep_interval_s
        while not stop.is_set():
            # psycopg's own timeout, not a cancellation: cancelling a connection mid-read
            # would break it.
            async for notify in conn.notifies(timeout=1.0):
                self._follow_id(uuid.UUID(notify.payload))
            if loop.time() >= next_sweep:
                await self._sweep()
                next_sweep = loop.time() + self._sweep_interval_s

    async def _sweep(self) -> None:
        async with service_session(self._pool) as conn:
            rows = await (await conn.execute(sql("executions_open"))).fetchall()
        for row in rows:
            self._follow_id(row["id"])

    def _follow_id(self, execution_id: uuid.UUID) -> None:
        task = self._following.get(execution_id)
        if task is not None and not task.done():
            return
        task = asyncio.create_task(self._follow(execution_id), name=f"track-{execution_id}")
        self._following[execution_id] = task
        task.add_done_callback(lambda _: self._following.pop(execution_id, None))

    async def _follow(self, execution_id: uuid.UUID) -> None:
        try:
            await self._follow_once(execution_id)
        except Exception:
            # The next sweep follows it again; a run is never dropped, only retried.
            log.exception("following execution %s failed", execution_id)

    async def _follow_once(self, execution_id: uuid.UUID) -> None:
        async with service_session(self._pool) as conn:
            row = await (await conn.execute(sql("executions_get"), {"id": execution_id})).fetchone()
        if row is None or row["stats_recorded_at"] is not None:
            return
        handle = self._client.get_workflow_handle(
            row["temporal_workflow_id"], run_id=row["temporal_run_id"]
        )
        delay = 0.5
        while True:
            try:
                outcome = await self._await_outcome(handle)
                break
            except RPCError as exc:
                if exc.status == RPCStatusCode.NOT_FOUND:
                    outcome = Outcome(
                        status="failed",
                        output=None,
                        error="the run no longer exists in Temporal (its history was lost)",
                    )
                    break
                log.info("waiting for %s: %s; retrying in %.1fs", execution_id, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 15.0)
        await self._record(row, handle, outcome)

    async def _await_outcome(self, handle: WorkflowHandle[Any, Any]) -> Outcome:
        try:
            output = await handle.result(follow_runs=True)
        except WorkflowFailureError as exc:
            return outcome_of_failure(exc)
        return Outcome(status="completed", output=output, error=None)

    async def _node_states(self, handle: WorkflowHandle[Any, Any]) -> dict[str, Any] | None:
        try:
            async with asyncio.timeout(self._query_timeout_s):
                states = await handle.query(_NODE_STATES_QUERY)
        except Exception:  # the worker may be gone; the last live states stay
            return None
        return states if isinstance(states, dict) else None

    async def _record(
        self, row: dict[str, Any], handle: WorkflowHandle[Any, Any], outcome: Outcome
    ) -> None:
        description = await handle.describe()
        started = description.start_time
        finished = description.close_time or datetime.now(UTC)
        duration_ms = max(0, int((finished - started).total_seconds() * 1000))
        status = outcome.status
        events = [event async for event in handle.fetch_history_events()]
        if status == "failed" and outcome.error is None:
            outcome = Outcome(status, None, _last_failure_message(events))
        node_states = _memo_node_states(description) or await self._node_states(handle)
        async with service_session(self._pool) as conn:
            finished_row = await (
                await conn.execute(
                    sql("executions_finish"),
                    {
                        "id": row["id"],
                        "status": status,
                        "output": Jsonb(outcome.output) if outcome.output is not None else None,
                        "error": outcome.error,
                        "node_states": Jsonb(node_states) if node_states is not None else None,
                        "finished_at": finished,
                        "started_at": started,
                        "duration_ms": duration_ms,
                    },
                )
            ).fetchone()
            if finished_row is None:
                return  # another tracker recorded it first
            await record_execution_statistics(
                conn,
                project_id=finished_row["project_id"],
                workflow_id=finished_row["workflow_id"],
                code_version=finished_row["code_version"],
                duration_ms=duration_ms,
                success=status == "completed",
                activities=activity_runs(events),
            )
            await conn.execute(
                "SELECT pg_notify('runloom_execution_changed', %s)", (str(row["id"]),)
            )


def _memo_node_states(description: WorkflowExecutionDescription) -> dict[str, Any] | None:
    try:
        states = description.memo_value(NODE_STATES_MEMO, None)
    except Exception:  # a memo runloom did not write, in a shape it cannot read
        return None
    return states if isinstance(states, dict) else None


def _last_failure_message(events: list[Any]) -> str | None:
    for event in reversed(events):
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
            return str(event.workflow_execution_failed_event_attributes.failure.message)
    return None


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        pass
