"""What a live stream hears about an execution: node changes reported by the worker while
it runs, and the end the tracker recorded. One format, written by the manager and the
tracker, read by every API process (NOTIFY on naming.EXECUTION_CHANGED_CHANNEL)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from runloom import naming
from runloom.db.pool import Pool
from runloom.store import live
from runloom.worker import protocol

__all__ = ["LiveEvent", "events_of_changes", "notify", "payloads", "publish"]

# Postgres refuses NOTIFY payloads of 8000 bytes or more.
_MAX_PAYLOAD = 7900


@dataclass(frozen=True, slots=True)
class LiveEvent:
    execution_id: uuid.UUID
    # node id -> its state (runloom_runtime.graph), for changes during the run
    nodes: Mapping[str, Any] = field(default_factory=dict)
    # the tracker recorded the end: the stream reads the execution once more and ends
    finished: bool = False

    def encode(self) -> str:
        return json.dumps(
            {"e": str(self.execution_id), "n": dict(self.nodes), "f": self.finished},
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, payload: str) -> LiveEvent:
        """ValueError (or KeyError) for a payload runloom did not write."""
        document = json.loads(payload)
        if not isinstance(document, dict):
            raise ValueError("a live event is an object")
        nodes = document.get("n") or {}
        if not isinstance(nodes, dict):
            raise ValueError("node states must be an object")
        return cls(uuid.UUID(document["e"]), nodes, bool(document.get("f")))


def events_of_changes(changes: Iterable[protocol.NodeState]) -> list[LiveEvent]:
    """A worker's batch as one event per execution (the latest state of each node)."""
    nodes: dict[uuid.UUID, dict[str, Any]] = {}
    for change in changes:
        execution_id = naming.execution_id_of(change.workflow_id)
        if execution_id is not None:
            nodes.setdefault(execution_id, {})[change.node_id] = change.state
    return [LiveEvent(execution_id, states) for execution_id, states in nodes.items()]


def payloads(events: Iterable[LiveEvent]) -> Iterator[str]:
    """NOTIFY payloads, an event split by nodes where it would be too long for one."""
    for event in events:
        encoded = event.encode()
        if len(encoded.encode()) < _MAX_PAYLOAD or len(event.nodes) <= 1:
            yield encoded
            continue
        names = list(event.nodes)
        half = len(names) // 2
        for part in (names[:half], names[half:]):
            yield from payloads([LiveEvent(event.execution_id, {n: event.nodes[n] for n in part})])


async def notify(conn: AsyncConnection[DictRow], events: Iterable[LiveEvent]) -> None:
    """NOTIFY the events in ``conn``'s transaction (delivered when it commits)."""
    await live.notify_execution_changes(conn, list(payloads(events)))


async def publish(pool: Pool, events: Iterable[LiveEvent]) -> None:
    """NOTIFY the events at once, outside any transaction of the caller's."""
    async with pool.connection() as conn:
        await notify(conn, events)
