"""One LISTEN per API process, fanned out to every live stream of that process.

A stream costs no database or Temporal call while nothing happens to its run: it waits on
a queue that this hub fills from NOTIFY (runloom.services.live_events). When the
listening connection is lost, every stream is told to read its run again (``resync``),
since events may have been missed meanwhile.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import uuid
from dataclasses import dataclass, field

import psycopg

from runloom.errors import RunloomError
from runloom.naming import EXECUTION_CHANGED_CHANNEL
from runloom.services.live_events import LiveEvent

__all__ = ["LiveHub", "StreamLimitError", "Subscription"]

log = logging.getLogger(__name__)

_RECONNECT_S = 1.0
_QUEUE_SIZE = 256


class StreamLimitError(RunloomError):
    """Too many live streams open, for this user or this API process."""


@dataclass(eq=False)
class Subscription:
    execution_id: uuid.UUID
    user_id: uuid.UUID
    queue: asyncio.Queue[LiveEvent | None]  # None: read the run again (events were missed)
    # Other ids the run's events come under: a retry's workers report node states under
    # the Temporal workflow id it shares with the run it was reset from.
    aliases: set[uuid.UUID] = field(default_factory=set)


class LiveHub:
    def __init__(self, database_url: str, *, per_user: int, per_process: int) -> None:
        self._database_url = database_url
        self._per_user = per_user
        self._per_process = per_process
        self._by_execution: dict[uuid.UUID, set[Subscription]] = collections.defaultdict(set)
        self._per_user_count: collections.Counter[uuid.UUID] = collections.Counter()
        self._count = 0
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="live-hub")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def subscribe(self, execution_id: uuid.UUID, *, user_id: uuid.UUID) -> Subscription:
        """A queue of the run's events, until :meth:`unsubscribe`; StreamLimitError when a
        cap is reached."""
        if self._count >= self._per_process:
            raise StreamLimitError(
                f"this server already follows {self._count} live runs "
                "(RUNLOOM_STREAMS_PER_PROCESS); retry shortly"
            )
        if self._per_user_count[user_id] >= self._per_user:
            raise StreamLimitError(
                f"you already follow {self._per_user} live runs (RUNLOOM_STREAMS_PER_USER); "
                "close some tabs or streams first"
            )
        sub = Subscription(execution_id, user_id, asyncio.Queue(maxsize=_QUEUE_SIZE))
        self._by_execution[execution_id].add(sub)
        self._per_user_count[user_id] += 1
        self._count += 1
        return sub

    def alias(self, sub: Subscription, execution_id: uuid.UUID) -> None:
        """Also hand ``sub`` the events that come under ``execution_id``."""
        if execution_id != sub.execution_id and execution_id not in sub.aliases:
            sub.aliases.add(execution_id)
            self._by_execution[execution_id].add(sub)

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._by_execution.get(sub.execution_id)
        if subs is None or sub not in subs:
            return
        for key in (sub.execution_id, *sub.aliases):
            keyed = self._by_execution.get(key)
            if keyed is not None:
                keyed.discard(sub)
                if not keyed:
                    del self._by_execution[key]
        self._count -= 1
        self._per_user_count[sub.user_id] -= 1
        if not self._per_user_count[sub.user_id]:
            del self._per_user_count[sub.user_id]

    @property
    def open_streams(self) -> int:
        return self._count

    def dispatch(self, event: LiveEvent | None) -> None:
        """Hand an event to the streams of its run (None: to every stream)."""
        targets = (
            {s for subs in self._by_execution.values() for s in subs}  # once each, aliases too
            if event is None
            else set(self._by_execution.get(event.execution_id, ()))
        )
        for sub in targets:
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                # A stream that fell this far behind reads its run again instead.
                _drain(sub.queue)
                sub.queue.put_nowait(None)

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._database_url, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {EXECUTION_CHANGED_CHANNEL}")
                    self.listening.set()
                    self.dispatch(None)
                    async for note in conn.notifies():
                        self._on_payload(note.payload)
            except (psycopg.Error, OSError) as exc:
                log.warning("live updates lost the database (%s); reconnecting", exc)
            self.listening.clear()
            await asyncio.sleep(_RECONNECT_S)

    def _on_payload(self, payload: str) -> None:
        try:
            event = LiveEvent.decode(payload)
        except (ValueError, KeyError) as exc:
            log.info("ignoring a live event runloom did not write: %s", exc)
            return
        self.dispatch(event)


def _drain(queue: asyncio.Queue[LiveEvent | None]) -> None:
    while not queue.empty():
        queue.get_nowait()
