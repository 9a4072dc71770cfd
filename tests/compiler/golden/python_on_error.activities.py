"""Activities of workflow 'orders' version 3, by runloom.

Each node gets its own activity type (<workflow>@v<version>.<node id>) so that
statistics can be kept per node. Python node code is kept as a string and
compiled by runloom_runtime.python_node when the activity runs.
"""

from typing import Any

from temporalio import activity

from runloom_runtime import python_node

# Code of node 'charge'.
CHARGE_CODE = "raise ValueError('card declined')"

# Code of node 'apologise'.
APOLOGISE_CODE = "return {'sorry': error['message'], 'from': error['node_id']}"


@activity.defn(name="orders@v3.charge")
async def charge_activity(args: dict[str, Any]) -> dict[str, Any]:
    """Python code of node 'charge'."""
    return await python_node.run(CHARGE_CODE, args, node_id="charge")


@activity.defn(name="orders@v3.apologise")
async def apologise_activity(args: dict[str, Any]) -> dict[str, Any]:
    """Python code of node 'apologise'."""
    return await python_node.run(APOLOGISE_CODE, args, node_id="apologise")


ACTIVITIES: list[Any] = [charge_activity, apologise_activity]
