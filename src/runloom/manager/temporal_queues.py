"""What Temporal knows of a project's task queue: its backlog, and the types of its open runs."""

from __future__ import annotations

import logging

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

__all__ = ["backlog", "open_workflow_types"]

log = logging.getLogger(__name__)

_MAX_OPEN_TYPES = 1000


async def backlog(client: Client, task_queue: str) -> int:
    """Tasks waiting on the queue, as Temporal reports them (its stats lag by seconds)."""
    total = 0
    for kind in (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY):
        answer = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=task_queue),
                task_queue_type=kind,
                report_stats=True,
            )
        )
        total += answer.stats.approximate_backlog_count
    return total


async def open_workflow_types(client: Client, task_queue: str) -> set[str]:
    """Workflow types with open runs on the queue, e.g. old versions started from outside
    runloom, which have no execution row but still need their code."""
    quoted = task_queue.replace("\\", "\\\\").replace("'", "\\'")
    types: set[str] = set()
    try:
        async for execution in client.list_workflows(
            f"TaskQueue = '{quoted}' AND ExecutionStatus = 'Running'", limit=_MAX_OPEN_TYPES
        ):
            types.add(execution.workflow_type)
    except Exception as exc:  # visibility is a bonus; the database list still stands
        log.warning("cannot list open runs on %s: %s", task_queue, exc)
    return types
