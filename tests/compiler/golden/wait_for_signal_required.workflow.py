"""Workflow 'orders' version 3, by runloom.

Temporal workflow type 'orders@v3'. Every node runs as an
asyncio task that waits for its predecessors (see runloom_runtime.graph for the
branch and join rules); activities are called by type name, so this module never
imports them.
"""

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

# The runtime is deterministic and stateless per run; passing it through avoids
# re-importing Jinja2 in the sandbox for every run.
with workflow.unsafe.imports_passed_through():
    from runloom_runtime import graph

WORKFLOW_TYPE = "orders@v3"
NODE_IDS = ["start", "approval", "end"]


@workflow.defn(name="orders@v3")
class OrdersV3Workflow:
    """Graph 'orders' v3: 3 nodes."""

    def __init__(self) -> None:
        self._graph = graph.GraphRun(NODE_IDS, now=workflow.now)
        self._signals: dict[str, list[Any]] = {}

    @workflow.run
    async def run(self, input: dict[str, Any]) -> Any:
        self._graph.input = input
        self._graph.spawn("start", self._node_start)
        self._graph.spawn("approval", self._node_approval, after=[("start", None)])
        self._graph.spawn("end", self._node_end, after=[("approval", None)])
        await self._graph.wait()
        # A skipped end node (every path to it was not taken) yields None.
        return self._graph.output("end")

    @workflow.query(name="node_states")
    def node_states(self) -> dict[str, dict[str, Any]]:
        """Status, timing, attempt and error of every node, for the live canvas."""
        return self._graph.node_states()

    @workflow.query(name="steps")
    def steps(self) -> dict[str, Any]:
        """Outputs of the nodes that have completed so far."""
        return dict(self._graph.steps)

    @workflow.signal(dynamic=True)
    def on_signal(self, name: str, args: Sequence[RawValue]) -> None:
        """Queue every signal's payload; wait_for_signal nodes take them in order."""
        payload = (
            workflow.payload_converter().from_payload(args[0].payload) if args else None
        )
        self._signals.setdefault(name, []).append(payload)

    async def _node_start(self) -> Any:
        """Node 'start': start."""
        return self._graph.input

    async def _node_approval(self) -> Any:
        """Node 'approval': wait_for_signal."""
        signal = "approve"
        try:
            await workflow.wait_condition(
                lambda: bool(self._signals.get(signal)), timeout=timedelta(seconds=3600)
            )
        except TimeoutError:
            raise ApplicationError(
                "no signal 'approve' arrived within 3600 s",
                type="SignalTimeout",
                non_retryable=True,
            ) from None
        return graph.Branch(self._signals[signal].pop(0), None)

    async def _node_end(self) -> Any:
        """Node 'end': end."""
        return dict(self._graph.steps)


WORKFLOWS = [OrdersV3Workflow]
