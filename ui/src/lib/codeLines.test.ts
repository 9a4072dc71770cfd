import { describe, expect, it } from "vitest";
import { activityNodeLines, nodeAtLine, workflowNodeLines } from "./codeLines";

const WORKFLOW = `class OrdersV3Workflow:
    @workflow.run
    async def run(self, input: dict[str, Any]) -> Any:
        self._graph.spawn("start", self._node_start)
        self._graph.spawn(
            "it's \\"odd\\"", self._node_it_s_odd, after=[("start", None)]
        )
        return self._graph.output("it's \\"odd\\"")

    async def _node_start(self) -> Any:
        """Node 'start': start."""
        return self._graph.input

    async def _node_it_s_odd(
        self,
    ) -> Any:
        return templates.render(
            "x", self._graph.scope()
        )


WORKFLOWS = [OrdersV3Workflow]
`;

const ACTIVITIES = `from typing import Any


@activity.defn(name="orders@v3.fetch")
async def fetch_activity(request: dict[str, Any]) -> dict[str, Any]:
    return await http.perform(request)


@activity.defn(
    name="orders@v3.a.b"
)
async def a_b_activity(args: dict[str, Any]) -> dict[str, Any]:
    return await python_node.run(A_B_CODE, args, node_id="a.b")


ACTIVITIES: list[Any] = [fetch_activity, a_b_activity]
`;

describe("node lines in generated code", () => {
  it("finds each node's method by its spawn line, split or not", () => {
    const ranges = workflowNodeLines(WORKFLOW);
    expect(ranges.get("start")).toEqual({ start: 10, end: 12 });
    expect(ranges.get(`it's "odd"`)).toEqual({ start: 14, end: 19 });
    expect(nodeAtLine(ranges, 17)).toBe(`it's "odd"`);
    expect(nodeAtLine(ranges, 4)).toBeNull();
  });

  it("finds each activity by its decorator's name", () => {
    const ranges = activityNodeLines(ACTIVITIES);
    expect(ranges.get("fetch")).toEqual({ start: 4, end: 6 });
    expect(ranges.get("a.b")).toEqual({ start: 9, end: 13 });
  });
});
