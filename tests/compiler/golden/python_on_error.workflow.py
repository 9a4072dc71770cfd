"""Workflow 'orders' version 3, by runloom.

Temporal workflow type 'orders@v3'. Every node runs as an
asyncio task that waits for its predecessors (see runloom_runtime.graph for the
branch and join rules); activities are called by type name, so this module never
imports them.
"""

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

# The runtime is deterministic and stateless per run; passing it through avoids
# re-importing Jinja2 in the sandbox for every run.
with workflow.unsafe.imports_passed_through():
    from runloom_runtime import graph, templates

WORKFLOW_TYPE = "orders@v3"
NODE_IDS = ["start", "charge", "receipt", "apologise", "end"]


@workflow.defn(name="orders@v3")
class OrdersV3Workflow:
    """Graph 'orders' v3: 5 nodes."""

    def __init__(self) -> None:
        self._graph = graph.GraphRun(NODE_IDS, now=workflow.now)

    @workflow.run
    async def run(self, input: dict[str, Any]) -> Any:
        self._graph.input = input
        # An edge labelled "error" is taken when its node fails after its retries;
        # the run goes on there (with `error` in scope) instead of failing.
        self._graph.spawn("start", self._node_start)
        self._graph.spawn("charge", self._node_charge, after=[("start", None)])
        self._graph.spawn("receipt", self._node_receipt, after=[("charge", None)])
        self._graph.spawn(
            "apologise", self._node_apologise, after=[("charge", "error")]
        )
        self._graph.spawn(
            "end", self._node_end, after=[("receipt", None), ("apologise", None)]
        )
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

    async def _node_start(self) -> Any:
        """Node 'start': start."""
        return self._graph.input

    async def _node_charge(self) -> Any:
        """Node 'charge': python."""
        args = {
            "input": self._graph.input,
            "steps": self._graph.steps,
            "error": self._graph.error(),
        }
        result = await workflow.execute_activity(
            "orders@v3.charge",
            args,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
        return self._graph.record_attempt("charge", result)

    async def _node_receipt(self) -> Any:
        """Node 'receipt': transform."""
        return templates.render("paid", self._graph.scope())

    async def _node_apologise(self) -> Any:
        """Node 'apologise': python."""
        args = {
            "input": self._graph.input,
            "steps": self._graph.steps,
            "error": self._graph.error(),
        }
        result = await workflow.execute_activity(
            "orders@v3.apologise",
            args,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
        return self._graph.record_attempt("apologise", result)

    async def _node_end(self) -> Any:
        """Node 'end': end."""
        return templates.render(
            {
                "result": "{{ steps.receipt or steps.apologise }}",
                "error": "{{ error }}",
            },
            self._graph.scope(),
        )


WORKFLOWS = [OrdersV3Workflow]
