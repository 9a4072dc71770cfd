"""A run's steps from what Temporal and runloom recorded of it. Pure: decoded activity
calls (:mod:`runloom.services.step_events`), node states and outputs come in,
:class:`Step` rows go out (:mod:`runloom.services.steps` does the reading).

Where each part of a step comes from:

* a node that runs as an activity (``http_request``, ``python``, a ``transform`` that
  reads secrets, each item of a ``for_each`` over those): its calls in the run's history
  (input, attempts, output, error, logs);
* a node that runs in workflow code: its state (status, times, error) and, for its
  output, the ``steps`` query of a live run or the memo the runtime leaves at the end.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from runloom.services.step_events import Call, StepError

__all__ = [
    "RunRecord",
    "Step",
    "StepError",
    "assemble",
    "cut_values",
    "graph_node_types",
    "node_types",
]


@dataclass(frozen=True, kw_only=True)
class Step:
    """One node that ran, or one item of a ``for_each`` (``item_index``)."""

    node_id: str
    type: str | None
    status: str
    input: Any = None
    output: Any = None
    error: StepError | None = None
    attempts: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    logs: tuple[str, ...] = ()
    item_index: int | None = None
    truncated: bool = False
    # Why the whole output cannot be had, when it cannot (see RunRecord.omitted).
    output_missing: str | None = None

    @property
    def duration_ms(self) -> int | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return max(0, int((self.finished_at - self.started_at).total_seconds() * 1000))


# --- node types ---------------------------------------------------------------------------

_DOCSTRING_TYPE = re.compile(r"^Node .*: ([a-z_]+)\.$", re.DOTALL)


def node_types(workflow_code: str) -> dict[str, str]:
    """Node id → type, in the order the run spawns them, read from a stored version's
    workflow code: ``self._graph.spawn('<id>', self.<method>, ...)`` in ``run`` and the
    method's docstring, ``Node '<id>': <type>.`` (runloom deploys with comments)."""
    try:
        tree = ast.parse(workflow_code)
    except (SyntaxError, ValueError, RecursionError):
        return {}
    kinds: dict[str, str] = {}
    spawned: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef):
            match = _DOCSTRING_TYPE.match(ast.get_docstring(node) or "")
            if match:
                kinds[node.name] = match.group(1)
        elif isinstance(node, ast.Call) and _is_spawn(node):
            node_id, method = node.args[0], node.args[1]
            assert isinstance(node_id, ast.Constant) and isinstance(method, ast.Attribute)
            spawned[str(node_id.value)] = method.attr
    return {node_id: kinds[method] for node_id, method in spawned.items() if method in kinds}


def _is_spawn(call: ast.Call) -> bool:
    return (
        isinstance(call.func, ast.Attribute)
        and call.func.attr == "spawn"
        and len(call.args) >= 2
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)
        and isinstance(call.args[1], ast.Attribute)
    )


def graph_node_types(graph: Mapping[str, Any]) -> dict[str, str]:
    """Node id → type from a graph document (the workflow's current graph, as a fallback)."""
    nodes = graph.get("nodes")
    found: dict[str, str] = {}
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, Mapping) and isinstance(node.get("id"), str):
            found[node["id"]] = str(node.get("type"))
    return found


# --- assembling steps ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """What is known of a run besides its activities: node types (in spawn order), node
    states, the outputs of workflow-side nodes (``omitted``: those too big to be kept,
    with their size in bytes), the run's input, and its output once it completed."""

    node_types: Mapping[str, str]
    states: Mapping[str, Mapping[str, Any]]
    outputs: Mapping[str, Any]
    omitted: Mapping[str, int]
    run_input: Any
    run_output: Any = None
    completed: bool = False


_RAN = ("running", "completed", "failed")
_LATE = datetime.max.replace(tzinfo=UTC)


def assemble(record: RunRecord, calls: Sequence[Call]) -> list[Step]:
    """One step per node that ran, a for_each's items right after it; nodes in the order
    they started, those not started (or of unknown time) last."""
    by_node: dict[str, list[Call]] = {}
    for call in calls:
        by_node.setdefault(call.node_id, []).append(call)
    ids = list(dict.fromkeys([*record.node_types, *record.states, *by_node]))
    groups: list[list[Step]] = []
    for node_id in ids:
        kind = record.node_types.get(node_id)
        node_calls = by_node.get(node_id, [])
        if kind == "for_each" or (kind is None and len(node_calls) > 1):
            group = _mapped(record, node_id, node_calls)
        elif node_calls:
            group = [_activity(record, node_id, node_calls[-1])]
        else:
            group = _in_workflow(record, node_id)
        if group:
            groups.append(group)
    order = {node_id: i for i, node_id in enumerate(ids)}
    groups.sort(key=lambda g: (g[0].started_at or _LATE, order[g[0].node_id]))
    return [step for group in groups for step in group]


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _state_error(state: Mapping[str, Any]) -> StepError:
    return StepError(type="NodeFailed", message=str(state.get("error") or "the node failed"))


def _activity(record: RunRecord, node_id: str, call: Call) -> Step:
    state = record.states.get(node_id) or {}
    status: str = call.status
    error = call.error
    if status == "completed" and state.get("status") == "failed":
        # Failed in the workflow after its activity returned (an output over the quota).
        status, error = "failed", _state_error(state)
    return Step(
        node_id=node_id,
        type=record.node_types.get(node_id),
        status=status,
        input=call.input,
        output=call.output,
        error=error,
        attempts=call.attempts,
        started_at=call.started_at,
        finished_at=call.finished_at,
        logs=call.logs,
    )


def _kept_output(record: RunRecord, node_id: str) -> tuple[Any, str | None]:
    kind = record.node_types.get(node_id)
    if node_id in record.outputs:
        return record.outputs[node_id], None
    if kind == "start":
        return record.run_input, None
    if kind == "end" and record.completed:
        return record.run_output, None
    if node_id in record.omitted:
        return None, (
            f"its output was {record.omitted[node_id]} bytes of JSON, more than runloom "
            "keeps of the steps that run in workflow code once a run has ended"
        )
    return None, "its output is not kept (a run from before step details, or a live run "
    "whose worker does not answer)"


def _in_workflow(record: RunRecord, node_id: str) -> list[Step]:
    state = record.states.get(node_id) or {}
    status = state.get("status")
    if status not in _RAN:
        return []
    output, missing = _kept_output(record, node_id) if status == "completed" else (None, None)
    kind = record.node_types.get(node_id)
    return [
        Step(
            node_id=node_id,
            type=kind,
            status=str(status),
            input=record.run_input if kind == "start" else None,
            output=output,
            error=_state_error(state) if status == "failed" else None,
            attempts=1,
            started_at=_when(state.get("started_at")),
            finished_at=_when(state.get("finished_at")),
            output_missing=missing,
            truncated=missing is not None,
        )
    ]


def _mapped(record: RunRecord, node_id: str, calls: Sequence[Call]) -> list[Step]:
    """A for_each node's own step (its list of outputs), then one step per item."""
    items = [
        dataclasses.replace(
            _activity(record, node_id, call),
            item_index=call.item_index if call.item_index is not None else position,
            # The node's state is the whole map's, not this item's.
            status=call.status,
            error=call.error,
        )
        for position, call in enumerate(calls)
    ]
    items.sort(key=lambda step: step.item_index or 0)
    own = _in_workflow(record, node_id)
    done = bool(items) and all(item.status == "completed" for item in items)
    if own and own[0].output_missing and done:
        # Its output is the list of its items' outputs, which the history holds.
        outputs = [item.output for item in items]
        own = [dataclasses.replace(own[0], output=outputs, truncated=False, output_missing=None)]
    if not own and items:  # no state of it yet (a live run whose worker does not answer)
        statuses = {item.status for item in items}
        status = next((s for s in ("running", "failed") if s in statuses), "completed")
        own = [
            Step(
                node_id=node_id,
                type=record.node_types.get(node_id),
                status=status,
                started_at=min(item.started_at for item in items if item.started_at),
                finished_at=None if status == "running" else items[-1].finished_at,
                attempts=1,
            )
        ]
    return [*own, *items]


def cut_values(step: Step, *, max_bytes: int) -> Step:
    """``step`` with an input or output over ``max_bytes`` of JSON replaced by the start of
    its JSON text, and ``truncated`` set; the whole value is downloaded on its own."""
    value_in, cut_in = _cut(step.input, max_bytes)
    value_out, cut_out = _cut(step.output, max_bytes)
    if not (cut_in or cut_out):
        return step
    return dataclasses.replace(step, input=value_in, output=value_out, truncated=True)


def _cut(value: Any, max_bytes: int) -> tuple[Any, bool]:
    if value is None or isinstance(value, bool | int | float):
        return value, False
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return value, False
    return data[:max_bytes].decode("utf-8", "ignore") + "…", True
