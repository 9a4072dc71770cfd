"""The guards a project worker puts around user code before it serves anything: python
nodes go to sandboxed runners, http nodes through the egress guard.

Python nodes never run in the worker itself. With isolation on and a host that cannot
isolate, they fail with an error naming the reason and the setting; they are never run
unconfined instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from runloom import sandbox
from runloom.sandbox import CallResult, Isolation, RunnerPool, SandboxError
from runloom.worker import protocol
from runloom_runtime import egress, python_node

__all__ = ["UserCode"]

log = logging.getLogger(__name__)


class UserCode:
    """The sandbox runner pool and the egress policy of one worker process."""

    def __init__(self, start: protocol.Start) -> None:
        policy = egress.EgressPolicy.from_json(start.egress)
        egress.configure(policy)
        isolation: Isolation = "off" if start.python_isolation == "off" else "on"
        # With the project's network on, python nodes reach only what http nodes may,
        # through a proxy of this worker that applies the same policy.
        self.pool = RunnerPool(
            isolation=isolation,
            # A runner kept warm costs each project ~8 MB: only for code that has python
            # nodes (a reload that adds some starts one at the first call).
            warm=1 if any(_runs_python(entry) for entry in start.bundle) else 0,
            network=start.python_network,
            egress=policy if start.python_network else None,
        )
        self._warming: asyncio.Task[None] | None = None

    def install(self) -> None:
        """Route python nodes to the pool now; warm it in the background, so the worker
        polls Temporal without waiting for its first runner."""
        sandbox.install(self.pool)
        self._warming = asyncio.create_task(self._warm())

    async def _warm(self) -> None:
        try:
            await self.pool.start()
        except SandboxError as exc:
            log.error("python nodes refused: %s", exc)
            python_node.set_executor(_refusing(str(exc)))

    async def close(self) -> None:
        if self._warming is not None and not self._warming.done():
            self._warming.cancel()
        sandbox.install(None)
        await self.pool.close()


def _runs_python(entry: protocol.BundleEntry) -> bool:
    # Generated activities call the python node runtime only when they have such nodes.
    return "python_node.run(" in entry.activities_code


def _refusing(reason: str) -> python_node.Executor:
    async def refuse(**_: Any) -> Mapping[str, Any]:
        return CallResult(
            ok=False, error_type="SandboxUnavailable", error_message=reason, non_retryable=True
        ).as_reply()

    return refuse
