"""Activities of workflow 'orders' version 3, by runloom.

Each node gets its own activity type (<workflow>@v<version>.<node id>) so that
statistics can be kept per node. Python node code is kept as a string and
compiled by runloom_runtime.python_node when the activity runs.
"""

from typing import Any

from temporalio import activity

from runloom_runtime import secret_steps

# Templates of node 'fetch_order', rendered here with its secrets.
FETCH_ORDER_TEMPLATE = {
    "method": "POST",
    "url": "https://shop.example/orders/{{ input.order_id }}",
    "headers": {
        "authorization": "Bearer {{ secrets.SHOP_TOKEN }}",
        "x-user": "{{ steps.login.user }}",
    },
    "body": {"key": "{{ secrets['SHOP_KEY'] }}"},
    "timeout_s": 30.0,
    "fail_on_status": True,
}


@activity.defn(name="orders@v3.fetch_order")
async def fetch_order_activity(scope: dict[str, Any]) -> dict[str, Any]:
    """HTTP request of node 'fetch_order', rendered here with its secrets."""
    return await secret_steps.http_request(
        FETCH_ORDER_TEMPLATE, scope, secrets=["SHOP_KEY", "SHOP_TOKEN"]
    )


ACTIVITIES: list[Any] = [fetch_order_activity]
