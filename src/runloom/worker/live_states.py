"""Node-state changes of live runs, from the workflow threads to the manager's pipe.

Workflow code runs in the SDK's threads; each change is handed to the event loop and sent
in small batches (a batch waits at most ``_BATCH_S`` for company), so a busy run costs one
pipe message per batch, and the canvas hears of a change within milliseconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from runloom.worker import protocol
from runloom_runtime import live

__all__ = ["LiveStates"]

_BATCH_S = 0.02
_MAX_BATCH = 200


class LiveStates:
    def __init__(self, send: Callable[[protocol.WorkerMessage], None]) -> None:
        self._send = send
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[protocol.NodeState] = asyncio.Queue()
        self._task = asyncio.create_task(self._forward())
        live.set_listener(self._heard)

    def _heard(self, workflow_id: str, run_id: str, node_id: str, state: Mapping[str, Any]) -> None:
        change = protocol.NodeState(workflow_id, run_id, node_id, dict(state))
        self._loop.call_soon_threadsafe(self._queue.put_nowait, change)

    async def _forward(self) -> None:
        while True:
            batch = [await self._queue.get()]
            await asyncio.sleep(_BATCH_S)
            while not self._queue.empty() and len(batch) < _MAX_BATCH:
                batch.append(self._queue.get_nowait())
            self._send(protocol.NodeStates(changes=tuple(batch)))

    def close(self) -> None:
        live.set_listener(None)
        self._task.cancel()
