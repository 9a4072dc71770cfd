"""Activities of workflow 'orders' version 3, by runloom.

Each node gets its own activity type (<workflow>@v<version>.<node id>) so that
statistics can be kept per node. Python node code is kept as a string and
compiled by runloom_runtime.python_node when the activity runs.
"""

from typing import Any

from temporalio import activity

from runloom_runtime import http


@activity.defn(name="orders@v3.fetch")
async def fetch_activity(request: dict[str, Any]) -> dict[str, Any]:
    """HTTP request of node 'fetch', rendered by the workflow."""
    return await http.perform(request)


ACTIVITIES: list[Any] = [fetch_activity]
