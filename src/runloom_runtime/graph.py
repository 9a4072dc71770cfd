"""Bookkeeping for one run of a compiled graph, used from inside the workflow.

Every node runs as its own asyncio task that first awaits the tasks of its predecessors.
An incoming edge is *taken* when its source completed and chose that edge's branch; a
node with predecessors runs when at least one incoming edge was taken and is skipped
otherwise. Skips therefore propagate down a branch that was not chosen, while a join
still runs once every predecessor has either finished or been skipped.

Workflow tasks created this way are deterministic: Temporal's event loop orders them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from temporalio import workflow
from temporalio.exceptions import ApplicationError, FailureError

from runloom_runtime import live
from runloom_runtime.templates import TemplateEvaluationError

# Memo key of the final node states (also the patch id that introduced the memo).
NODE_STATES_MEMO = "runloom_node_states"

__all__ = [
    "Branch",
    "GraphRun",
    "NodeStatus",
    "as_items",
    "failure_message",
    "map_bounded",
    "output_size",
]

NodeStatus = Literal["pending", "running", "completed", "failed", "skipped"]


@dataclass(frozen=True)
class Branch:
    """What a branching node (condition, wait_for_signal) returns: its output and branch."""

    output: Any
    branch: str | None


class _NodeState:
    __slots__ = ("attempt", "error", "finished_at", "started_at", "status")

    def __init__(self) -> None:
        self.status: NodeStatus = "pending"
        self.started_at: datetime | None = None
        self.finished_at: datetime | None = None
        self.attempt: int | None = None
        self.error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "attempt": self.attempt,
            "error": self.error,
        }


def failure_message(err: BaseException) -> str:
    """The innermost message of a Temporal failure chain: what the user's code said."""
    message = str(err)
    current: BaseException | None = err
    while current is not None:
        if isinstance(current, FailureError) and current.message:
            message = current.message
        elif not isinstance(current, FailureError):
            message = str(current)
        current = current.__cause__
    return message


class GraphRun:
    """State of every node of one workflow run; exposed through the `node_states` query."""

    def __init__(
        self,
        node_ids: Iterable[str],
        *,
        now: Callable[[], datetime],
        max_output_bytes: int | None = None,
    ) -> None:
        """``max_output_bytes`` bounds each node's output (as compact JSON); code compiled
        without it has no bound, so versions stored before the bound existed replay as
        they ran."""
        self._now = now
        self._max_output_bytes = max_output_bytes
        self._states = {node_id: _NodeState() for node_id in node_ids}
        self._branches: dict[str, str | None] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.input: Any = None
        self.steps: dict[str, Any] = {}

    def scope(self, **extra: Any) -> dict[str, Any]:
        """Names visible to templates: `input`, `steps`, plus for_each's `item`/`index`."""
        return {"input": self.input, "steps": self.steps, **extra}

    def spawn(
        self,
        node_id: str,
        body: Callable[[], Awaitable[Any]],
        *,
        after: Sequence[tuple[str, str | None]] = (),
    ) -> None:
        """Start ``node_id`` once its predecessors (given as ``(source, branch)``) settle.

        Nodes must be spawned in topological order so that every predecessor has a task.
        """
        self._tasks[node_id] = asyncio.create_task(self._run_node(node_id, body, after))

    async def wait(self) -> None:
        """Wait for every node; re-raise the first failure.

        However the run ends, the final node states go into the run's memo, so that
        runloom (or anyone with the Temporal UI) can read them from the closed run without
        a worker to answer a query.
        """
        try:
            await asyncio.gather(*self._tasks.values())
        finally:
            if workflow.in_workflow() and workflow.patched(NODE_STATES_MEMO):
                workflow.upsert_memo({NODE_STATES_MEMO: self.node_states()})

    def output(self, node_id: str) -> Any:
        return self.steps.get(node_id)

    def node_states(self) -> dict[str, dict[str, Any]]:
        return {node_id: state.as_dict() for node_id, state in self._states.items()}

    def record_attempt(self, node_id: str, envelope: Mapping[str, Any]) -> Any:
        """Unwrap what a runloom activity returned (`{"output", "attempt"}`)."""
        self._states[node_id].attempt = envelope.get("attempt")
        return envelope.get("output")

    async def _run_node(
        self,
        node_id: str,
        body: Callable[[], Awaitable[Any]],
        after: Sequence[tuple[str, str | None]],
    ) -> None:
        taken = not after
        for source, branch in after:
            await self._tasks[source]
            if self._states[source].status == "completed" and self._branches[source] == branch:
                taken = True
        state = self._states[node_id]
        now = self._now()
        if not taken:
            state.status = "skipped"
            state.finished_at = now
            live.report(node_id, state.as_dict())
            return
        state.status = "running"
        state.started_at = now
        live.report(node_id, state.as_dict())
        try:
            result = await body()
            output = result.output if isinstance(result, Branch) else result
            self._check_output_size(output)
        except (FailureError, TemplateEvaluationError) as err:
            state.status = "failed"
            state.finished_at = self._now()
            state.error = failure_message(err)
            live.report(node_id, state.as_dict())
            raise ApplicationError(
                f"node {node_id!r} failed: {state.error}",
                type="NodeFailed",
                non_retryable=True,
            ) from err
        except asyncio.CancelledError:
            state.status = "failed"
            state.finished_at = self._now()
            state.error = "cancelled"
            raise
        self._branches[node_id] = result.branch if isinstance(result, Branch) else None
        self.steps[node_id] = output
        state.status = "completed"
        state.finished_at = self._now()
        live.report(node_id, state.as_dict())

    def _check_output_size(self, output: Any) -> None:
        limit = self._max_output_bytes
        if limit is None:
            return
        size = output_size(output)
        if size > limit:
            raise ApplicationError(
                f"its output is {size} bytes of JSON, over the limit of {limit} bytes per "
                "node output (RUNLOOM_QUOTA_STEP_OUTPUT_KB); return less, for example a "
                "reference to data kept elsewhere",
                type="StepOutputTooLarge",
                non_retryable=True,
            )


def output_size(value: Any) -> int:
    """Bytes of ``value`` as compact UTF-8 JSON: what a node's output costs to keep in
    ``steps``, the run's history and its recorded result. Deterministic, so it may decide
    a workflow's path."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return len(text.encode("utf-8"))


async def map_bounded(
    items: Sequence[Any],
    step: Callable[[int, Any], Awaitable[Any]],
    *,
    concurrency: int,
) -> list[Any]:
    """Run ``step(index, item)`` for every item, at most ``concurrency`` at a time, in order."""
    semaphore = asyncio.Semaphore(concurrency)

    async def one(index: int, item: Any) -> Any:
        async with semaphore:
            return await step(index, item)

    return list(await asyncio.gather(*(one(i, item) for i, item in enumerate(items))))


def as_items(value: Any, *, node_id: str, max_items: int | None = None) -> list[Any]:
    """The list a for_each node iterates; anything else is the user's mistake, said plainly.

    ``max_items`` (compiled in from RUNLOOM_QUOTA_FOR_EACH_ITEMS) bounds how many items
    one node may map: each item is at least one activity or child workflow in the run's
    history.
    """
    if isinstance(value, list):
        items = value
    elif isinstance(value, Mapping):
        items = [{"key": k, "value": v} for k, v in value.items()]
    else:
        raise ApplicationError(
            f"for_each node {node_id!r}: items must be a list, got {type(value).__name__}",
            type="ItemsNotAList",
            non_retryable=True,
        )
    if max_items is not None and len(items) > max_items:
        raise ApplicationError(
            f"for_each node {node_id!r}: {len(items)} items, over the limit of {max_items} "
            "items per for_each node (RUNLOOM_QUOTA_FOR_EACH_ITEMS); split the list or "
            "process it in batches",
            type="TooManyItems",
            non_retryable=True,
        )
    return items
