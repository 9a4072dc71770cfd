"""Follows every open execution to its end and records how it ended.

Each run costs Temporal one long-poll history read (services/run_history.py: outcome,
memo, times and activities at once) and the database one statement to record its end
(`executions.record_end`, batched with the ends that arrive together: end_recorder.py).

One tracker leads at a time (a Postgres advisory lock), so several managers can run it
safely. On taking the lead it reconciles every open row with Temporal, so a restart of any
process never leaves an execution stuck as running; the `stats_recorded_at` guard makes
"record the end" idempotent, so statistics count each execution exactly once. A lost
database or Temporal connection costs the lead, never the tracker: it reconnects, and
the sweep picks up whatever ended meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
from temporalio.api.errordetails.v1 import NamespaceNotFoundFailure
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from runloom import logs, naming, tracing
from runloom.db.pool import Pool
from runloom.db.session import service_session
from runloom.manager import metrics as manager_metrics
from runloom.manager.end_recorder import EndRecorder
from runloom.manager.notify import FailureNotifier
from runloom.manager.statistics import activity_runs
from runloom.services import namespaces
from runloom.services.live_events import LiveEvent
from runloom.services.outcome import Outcome
from runloom.services.run_history import RunHistory, read_to_close
from runloom.store import executions
from runloom.store.executions import RunEnd, TrackedRun

__all__ = ["ExecutionTracker"]

log = logging.getLogger(__name__)

_LEADER_LOCK = 0x7472616B6572  # any constant shared by every tracker
_RETRY_S = 2.0


class ExecutionTracker:
    def __init__(
        self,
        *,
        pool: Pool,
        client: Client,
        database_url: str,
        sweep_interval_s: float = 15.0,
        query_timeout_s: float = 3.0,
        notifier: FailureNotifier | None = None,
    ) -> None:
        self._pool = pool
        self._notifier = notifier
        self._client = client
        self._database_url = database_url
        self._sweep_interval_s = sweep_interval_s
        self._query_timeout_s = query_timeout_s
        self._following: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._ends = EndRecorder(pool=pool)

    async def run(self, stop: asyncio.Event) -> None:
        """Lead when the lock is free, follow open executions, until `stop` is set."""
        while not stop.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._database_url, autocommit=True
                ) as conn:
                    await self._lead(conn, stop)
            except (psycopg.Error, OSError) as exc:
                log.warning("tracker lost the database (%r); retrying", exc)
            except Exception:
                # Whatever else went wrong, the tracker must outlive it: runs stay open
                # in the database until someone records them.
                log.exception("tracker failed; retrying")
            await _wait(stop, _RETRY_S)
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
            await _wait(stop, _RETRY_S)
        if stop.is_set():
            return
        await conn.execute(f"LISTEN {naming.EXECUTIONS_CHANNEL}")
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
            ids = await executions.open_execution_ids(conn)
        for execution_id in ids:
            self._follow_id(execution_id)

    def _follow_id(self, execution_id: uuid.UUID) -> None:
        task = self._following.get(execution_id)
        if task is not None and not task.done():
            return
        task = asyncio.create_task(self._follow(execution_id), name=f"track-{execution_id}")
        self._following[execution_id] = task
        task.add_done_callback(lambda _: self._following.pop(execution_id, None))

    async def _follow(self, execution_id: uuid.UUID) -> None:
        logs.run_id.set(str(execution_id))  # this task's own context: its lines name the run
        try:
            await self._follow_once(execution_id)
        except Exception:
            # The next sweep follows it again; a run is never dropped, only retried.
            log.exception("following execution %s failed", execution_id)

    async def _follow_once(self, execution_id: uuid.UUID) -> None:
        async with service_session(self._pool, pipeline=True) as conn:
            run = await executions.get_tracked_run(conn, execution_id)
        if run is None or run.stats_recorded_at is not None or not run.temporal_workflow_id:
            return
        client = namespaces.client_for(self._client, run.temporal_namespace)
        history = await self._history(client, run)
        with tracing.span("runloom.record_end", run_id=str(run.id)):
            if history is None:
                await self._record(run, _lost(run), history=None)
            else:
                await self._record(run, await self._end(client, run, history), history=history)

    async def _history(self, client: Client, run: TrackedRun) -> RunHistory | None:
        """The run's history once it has closed; None if Temporal no longer has it."""
        assert run.temporal_workflow_id is not None
        delay = 0.5
        while True:
            try:
                # The row's own run: after a retry, the workflow id's latest run is the retry's.
                return await read_to_close(
                    client, workflow_id=run.temporal_workflow_id, run_id=run.temporal_run_id
                )
            except RPCError as exc:
                if exc.status == RPCStatusCode.NOT_FOUND and not _namespace_missing(exc):
                    return None
                log.info("waiting for %s: %s; retrying in %.1fs", run.id, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 15.0)

    async def _end(self, client: Client, run: TrackedRun, history: RunHistory) -> RunEnd:
        converter = client.data_converter
        live = LiveEvent(run.id, finished=True).encode()
        # A retry's run is a reset run: it keeps the memo of the run it was reset from,
        # which names the first execution of the chain of retries.
        if await history.memo_execution_id(converter) != str(run.memo_execution_id):
            # Anyone who can reach Temporal can put a run on a tenant's queue; only the
            # run runloom started for this row may write into it.
            return RunEnd(
                execution_id=run.id,
                status="failed",
                output=None,
                error="this Temporal run was not started by runloom for this execution "
                "(its memo names another); its result was not recorded",
                node_states=None,
                started_at=history.start_time,
                finished_at=history.close_time,
                live_payload=live,
                counted=False,
            )
        node_states = await history.memo_node_states(converter)
        if node_states is None:
            node_states = await self._node_states(client, run)
        return RunEnd(
            execution_id=run.id,
            status=history.outcome.status,
            output=history.outcome.output,
            error=history.outcome.error,
            node_states=node_states,
            started_at=history.start_time,
            finished_at=history.close_time,
            live_payload=live,
            counted=True,
            activities=activity_runs(list(history.events), closed_after=history.reset_event_id),
        )

    async def _node_states(self, client: Client, run: TrackedRun) -> dict[str, Any] | None:
        assert run.temporal_workflow_id is not None
        handle = client.get_workflow_handle(run.temporal_workflow_id, run_id=run.temporal_run_id)
        try:
            async with asyncio.timeout(self._query_timeout_s):
                states = await handle.query(naming.NODE_STATES_QUERY)
        except Exception:  # the worker may be gone; the last live states stay
            return None
        return states if isinstance(states, dict) else None

    async def _record(self, run: TrackedRun, end: RunEnd, *, history: RunHistory | None) -> None:
        """The one place a run's end is recorded: one statement, then what follows it."""
        finished_run = await self._ends.record(end)
        if finished_run is None:
            return  # another tracker recorded it first
        if not end.counted or history is None:
            return  # not a run of runloom's: nothing to count or tell
        outcome = Outcome(status=end.status, output=end.output, error=end.error)
        manager_metrics.run_recorded(
            finished_run, outcome, description=history, events=history.events
        )
        if self._notifier is not None:  # once recorded (committed), and only then
            self._notifier.run_ended(finished_run, outcome)


def _lost(run: TrackedRun) -> RunEnd:
    now = datetime.now(UTC)
    return RunEnd(
        execution_id=run.id,
        status="failed",
        output=None,
        error="the run no longer exists in Temporal (its history was lost)",
        node_states=None,
        started_at=now,
        finished_at=now,
        live_payload=LiveEvent(run.id, finished=True).encode(),
        counted=False,
    )


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        async with asyncio.timeout(seconds):
            await stop.wait()
    except TimeoutError:
        pass


def _namespace_missing(exc: RPCError) -> bool:
    """NOT_FOUND for the namespace, not the run (a dev server under load has answered so
    for a moment): the run is not lost, only unreachable now."""
    return any(detail.Is(NamespaceNotFoundFailure.DESCRIPTOR) for detail in exc.grpc_status.details)
