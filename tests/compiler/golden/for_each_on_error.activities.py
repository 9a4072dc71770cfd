"""Activities of workflow 'orders' version 3, by runloom.

Each node gets its own activity type (<workflow>@v<version>.<node id>) so that
statistics can be kept per node. Python node code is kept as a string and
compiled by runloom_runtime.python_node when the activity runs.
"""

from typing import Any

from temporalio import activity

from runloom_runtime import python_node

# Code of node 'invert'.
INVERT_CODE = "return 1 / item"


@activity.defn(name="orders@v3.invert")
async def invert_activity(args: dict[str, Any]) -> dict[str, Any]:
    """Python code of node 'invert'."""
    return await python_node.run(INVERT_CODE, args, node_id="invert")


ACTIVITIES: list[Any] = [invert_activity]
