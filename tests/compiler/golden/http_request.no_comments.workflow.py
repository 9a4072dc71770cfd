from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from runloom_runtime import graph, templates

WORKFLOW_TYPE = "orders@v3"
NODE_IDS = ["start", "fetch_order", "end"]


@workflow.defn(name="orders@v3")
class OrdersV3Workflow:
    def __init__(self) -> None:
        self._graph = graph.GraphRun(NODE_IDS, now=workflow.now)

    @workflow.run
    async def run(self, input: dict[str, Any]) -> Any:
        self._graph.input = input
        self._graph.spawn("start", self._node_start)
        self._graph.spawn(
            "fetch_order", self._node_fetch_order, after=[("start", None)]
        )
        self._graph.spawn("end", self._node_end, after=[("fetch_order", None)])
        await self._graph.wait()
        return self._graph.output("end")

    @workflow.query(name="node_states")
    def node_states(self) -> dict[str, dict[str, Any]]:
        return self._graph.node_states()

    @workflow.query(name="steps")
    def steps(self) -> dict[str, Any]:
        return dict(self._graph.steps)

    async def _node_start(self) -> Any:
        return self._graph.input

    async def _node_fetch_order(self) -> Any:
        request = templates.render(
            {
                "method": "POST",
                "url": "https://shop.example/orders/{{ input.order_id }}",
                "headers": {"authorization": "Bearer {{ input.token }}"},
                "body": {"expand": ["lines"], "note": "from runloom"},
                "timeout_s": 10.0,
                "fail_on_status": True,
            },
            self._graph.scope(),
        )
        result = await workflow.execute_activity(
            "orders@v3.fetch_order",
            request,
            start_to_close_timeout=timedelta(seconds=30),
            schedule_to_close_timeout=timedelta(seconds=300),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=2),
                backoff_coefficient=2,
                maximum_attempts=5,
                maximum_interval=timedelta(seconds=30),
            ),
        )
        return self._graph.record_attempt("fetch_order", result)

    async def _node_end(self) -> Any:
        return templates.render("{{ steps.fetch_order.body }}", self._graph.scope())


WORKFLOWS = [OrdersV3Workflow]
