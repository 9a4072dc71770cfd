"""Bookkeeping for one run of a compiled graph, used from inside the workflow.

Every node runs as its own asyncio task that first awaits the tasks of its predecessors.
An incoming edge is *taken* when its source completed and chose that edge's branch; a
node with predecessors runs when at least one incoming edge was taken and is skipped
otherwise. Skips therefore propagate down a branch that was not chosen, while a join
still runs once every predecessor has either finished or been skipped.

A node with an *error edge* (branch ``"error"``) that fails after its retries does not
fail the run: its state is ``failed``, it "chose" the error branch, so the error edge is
taken and its plain edges are not (they are skipped like a branch not taken). Nodes after
it see ``error`` (``type``, ``message``, ``node_id``) in their scope, and so do the nodes
after those; graphs without error edges have no ``error`` in scope at all.

Workflow tasks created this way are deterministic: Temporal's event loop orders them.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from temporalio import workflow
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    FailureError,
)

from runloom_runtime import live
from runloom_runtime.step_memo import STEP_OUTPUTS_MEMO, kept_outputs
from runloom_runtime.templates import TemplateEvaluationError

# Memo key of the final node states (also the patch id that introduced the memo).
NODE_STATES_MEMO = "runloom_node_states"

__all__ = [
    "ERROR_BRANCH",
    "Branch",
    "GraphRun",
    "NodeStatus",
    "as_items",
    "failure_message",
    "failure_type",
    "map_bounded",
    "output_size",
]

NodeStatus = Literal["pending", "running", "completed", "failed", "skipped"]

# The branch a node with an error edge takes when it fails.
ERROR_BRANCH = "error"

# The error in scope of the node whose task is running. Each node runs in its own task,
# and a task has its own copy of the context, so concurrent nodes (and runs) never see
# each other's value; generated code reads it through GraphRun.scope() and .error().
_ERROR_IN_SCOPE: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "runloom_error_in_scope", default=None
)
_NOT_SETTLED = object()


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


def failure_type(err: BaseException) -> str:
    """The kind of the innermost failure, beside :func:`failure_message`: an
    ``ApplicationError``'s type (a python node's exception class, ``HttpStatusError``...),
    else the class name (``TimeoutError`` for an activity past its timeout)."""
    kind = type(err).__name__
    current: BaseException | None = err
    while current is not None:
        if isinstance(current, ApplicationError) and current.type:
            kind = current.type
        elif not isinstance(current, ActivityError | ChildWorkflowError):
            kind = type(current).__name__
        current = current.__cause__
    return kind


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
        self._from_activity: set[str] = set()  # their outputs are in the run's history
        # Nodes with an error edge (known before any node runs: every spawn comes first),
        # the failures they handled, and the error each node saw when it started.
        self._handles_errors: set[str] = set()
        self._handled: dict[str, dict[str, Any]] = {}
        self._seen_errors: dict[str, dict[str, Any] | None] = {}
        self.input: Any = None
        self.steps: dict[str, Any] = {}

    def scope(self, **extra: Any) -> dict[str, Any]:
        """Names visible to templates: `input`, `steps`, plus for_each's `item`/`index`,
        and `error` in graphs with error edges (None outside an error path)."""
        if self._handles_errors:
            return {"input": self.input, "steps": self.steps, "error": self.error(), **extra}
        return {"input": self.input, "steps": self.steps, **extra}

    def error(self) -> dict[str, Any] | None:
        """The error in scope of the calling node: that of the failed node whose error
        edge led to it (directly or through the nodes after that edge), else None."""
        return _ERROR_IN_SCOPE.get()

    def narrow_scope(
        self, roots: Collection[str] = (), *, steps: Iterable[str] | None = None, **extra: Any
    ) -> dict[str, Any]:
        """The part of :meth:`scope` some templates read: ``input`` and ``steps`` if named in
        ``roots`` (of ``steps``, only the ids listed in ``steps`` when given), plus
        ``extra``. Templates that read secrets are rendered in their activity, whose
        input Temporal keeps in the run's history: only what they read is sent."""
        scope = dict(extra)
        if "input" in roots:
            scope["input"] = self.input
        if "steps" in roots:
            wanted = self.steps if steps is None else steps
            scope["steps"] = {s: self.steps[s] for s in wanted if s in self.steps}
        if "error" in roots:
            scope["error"] = self.error()
        return scope

    def spawn(
        self,
        node_id: str,
        body: Callable[[], Awaitable[Any]],
        *,
        after: Sequence[tuple[str, str | None]] = (),
    ) -> None:
        """Start ``node_id`` once its predecessors (given as ``(source, branch)``) settle.

        Nodes must be spawned in topological order so that every predecessor has a task,
        and all before the run first awaits, so that a failing node knows whether an error
        edge leaves it.
        """
        self._handles_errors.update(src for src, branch in after if branch == ERROR_BRANCH)
        self._tasks[node_id] = asyncio.create_task(self._run_node(node_id, body, after))

    async def wait(self) -> None:
        """Wait for every node; re-raise the first failure.

        However the run ends, the final node states go into the run's memo, with the
        outputs of the nodes that ran in workflow code (:meth:`workflow_outputs`), so that
        runloom (or anyone with the Temporal UI) can read them from the closed run without
        a worker to answer a query.
        """
        try:
            await asyncio.gather(*self._tasks.values())
        finally:
            if workflow.in_workflow():
                self._leave_memo()

    def _leave_memo(self) -> None:
        # One patch per memo key, so that runs started before a key existed replay as
        # they ran; one upsert, as before the second key.
        memo: dict[str, Any] = {}
        if workflow.patched(NODE_STATES_MEMO):
            memo[NODE_STATES_MEMO] = self.node_states()
        if workflow.patched(STEP_OUTPUTS_MEMO):
            memo[STEP_OUTPUTS_MEMO] = self.workflow_outputs()
        if memo:
            workflow.upsert_memo(memo)

    def workflow_outputs(self) -> dict[str, Any]:
        """The outputs no activity returned, bounded (:mod:`.step_memo`)."""
        return kept_outputs(self.steps, skip=self._from_activity)

    def output(self, node_id: str) -> Any:
        return self.steps.get(node_id)

    def node_states(self) -> dict[str, dict[str, Any]]:
        return {node_id: state.as_dict() for node_id, state in self._states.items()}

    def record_attempt(self, node_id: str, envelope: Mapping[str, Any]) -> Any:
        """Unwrap what a runloom activity returned (`{"output", "attempt"}`)."""
        self._states[node_id].attempt = envelope.get("attempt")
        self._from_activity.add(node_id)
        return envelope.get("output")

    async def _run_node(
        self,
        node_id: str,
        body: Callable[[], Awaitable[Any]],
        after: Sequence[tuple[str, str | None]],
    ) -> None:
        taken = await self._settle(node_id, after)
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
            if node_id in self._handles_errors:
                self._take_error_edge(node_id, err, message=state.error)
                return
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

    async def _settle(self, node_id: str, after: Sequence[tuple[str, str | None]]) -> bool:
        """Wait for the predecessors; whether an incoming edge was taken. Sets the error
        the node sees (the first one a taken edge carries) in its task's context."""
        taken = not after
        seen: dict[str, Any] | None = None
        for source, branch in after:
            await self._tasks[source]
            # A source is in _branches once it completed, or failed into its error edge.
            if self._branches.get(source, _NOT_SETTLED) == branch:
                taken = True
                if branch == ERROR_BRANCH and source in self._handled:
                    seen = seen or self._handled[source]
                else:
                    seen = seen or self._seen_errors.get(source)
        if seen is not None:
            _ERROR_IN_SCOPE.set(seen)  # in this node's task only
        self._seen_errors[node_id] = seen
        return taken

    def _take_error_edge(self, node_id: str, err: BaseException, *, message: str) -> None:
        kind = failure_type(err)
        # A python node's runner says "KeyError: 'x'" where the code ran in-thread says
        # "'x'": the type is its own field, so the message is the same either way.
        message = message.removeprefix(f"{kind}: ")
        self._handled[node_id] = {"type": kind, "message": message, "node_id": node_id}
        self._branches[node_id] = ERROR_BRANCH

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
