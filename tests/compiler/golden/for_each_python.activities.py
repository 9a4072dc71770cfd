"""Activities of workflow 'orders' version 3, by runloom.

Each node gets its own activity type (<workflow>@v<version>.<node id>) so that
statistics can be kept per node. Python node code is kept as a string and
compiled by runloom_runtime.python_node when the activity runs.
"""

from typing import Any

from temporalio import activity

from runloom_runtime import python_node

# Code of node 'square'.
SQUARE_CODE = "return item * item"


@activity.defn(name="orders@v3.square")
async def square_activity(args: dict[str, Any]) -> dict[str, Any]:
    """Python code of node 'square'."""
    return await python_node.run(SQUARE_CODE, args, node_id="square")


ACTIVITIES: list[Any] = [square_activity]
