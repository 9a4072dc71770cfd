"""Run workflow 'orders@v3' outside runloom: `python worker.py`.

Environment: TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE (default
default), TASK_QUEUE (default 'orders').
"""

import asyncio
import os

from temporalio.client import Client
from temporalio.worker import Worker

import activities
import workflow

DEFAULT_TASK_QUEUE = "orders"


async def main() -> None:
    address = os.environ.get("TEMPORAL_ADDRESS", "localhost:7233")
    namespace = os.environ.get("TEMPORAL_NAMESPACE", "default")
    task_queue = os.environ.get("TASK_QUEUE", DEFAULT_TASK_QUEUE)
    client = await Client.connect(address, namespace=namespace)
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=workflow.WORKFLOWS,
        activities=activities.ACTIVITIES,
    )
    print(
        "worker for",
        workflow.WORKFLOW_TYPE,
        "polling task queue",
        task_queue,
        flush=True,
    )
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main())
