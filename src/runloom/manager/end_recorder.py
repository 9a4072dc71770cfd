"""Writes runs' ends to the database in batches: the ends that arrive while one batch is
being written go together in the next, in one pipelined transaction (one round trip for
all of them, and BEGIN, claims and COMMIT once). A lone end is written at once, so
batching adds no wait; it only shares the cost when many runs end together.
"""

from __future__ import annotations

import asyncio

from runloom.db.pool import Pool
from runloom.db.session import service_session
from runloom.store import executions
from runloom.store.executions import FinishedRun, RunEnd

__all__ = ["EndRecorder"]

_Waiting = tuple[RunEnd, "asyncio.Future[FinishedRun | None]"]


class EndRecorder:
    def __init__(self, *, pool: Pool, max_batch: int = 100) -> None:
        self._pool = pool
        self._max_batch = max_batch
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, end: RunEnd) -> FinishedRun | None:
        """Record ``end`` (committed when this returns); None if another tracker recorded
        it first. Raises what the database raised for its batch (the run stays open)."""
        future: asyncio.Future[FinishedRun | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((end, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="record-ends")
        return await future

    async def _write(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            try:
                async with service_session(self._pool, pipeline=True) as conn:
                    results = await executions.record_ends(conn, [end for end, _ in batch])
            except Exception as exc:  # each waiting follower logs it; the sweep retries
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():  # its follower may have been cancelled meanwhile
                    future.set_result(result)
