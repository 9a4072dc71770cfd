"""Activities of workflow 'orders' version 3, by runloom.

Each node gets its own activity type (<workflow>@v<version>.<node id>) so that
statistics can be kept per node. Python node code is kept as a string and
compiled by runloom_runtime.python_node when the activity runs.
"""

from typing import Any

from temporalio import activity

from runloom_runtime import secret_steps

# Templates of node 'sign', rendered here with its secrets.
SIGN_TEMPLATE = {"signature": "{{ input.id }}:{{ secrets.SIGNING_KEY }}"}


@activity.defn(name="orders@v3.sign")
async def sign_activity(scope: dict[str, Any]) -> dict[str, Any]:
    """Output of node 'sign', rendered here with its secrets."""
    return await secret_steps.transform(SIGN_TEMPLATE, scope, secrets=["SIGNING_KEY"])


ACTIVITIES: list[Any] = [sign_activity]
