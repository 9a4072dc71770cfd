"""Step details of a run: what every node received and returned, its attempts, times,
error and logs, read where they are kept (:mod:`.step_history` puts them together).

Temporal's history is the source: it holds every activity's input, result (the
runtime's envelope, logs included) and failure, for a live run, a finished one, and one
whose worker is stopped. Nodes that run in workflow code leave no event of their own:
their states come from the run's ``node_states`` query while it is live (a short wait;
a run whose worker does not answer falls back to what runloom recorded), else from its
memo or the execution row; their outputs from the ``steps`` query, else the memo the
runtime leaves at the end. The caller reads the execution as the user (Row Level
Security): another user's run is not found. Values are shown as they were recorded:
activities that use secrets redact them before Temporal keeps anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from temporalio.api.common.v1 import Payloads
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowHandle,
)
from temporalio.converter import DataConverter
from temporalio.service import RPCError, RPCStatusCode

from runloom import naming
from runloom.db.pool import Pool
from runloom.db.session import Claims, user_session
from runloom.errors import NotFoundError
from runloom.models import Execution
from runloom.services import namespaces, step_events, step_history
from runloom.services.step_events import Call
from runloom.services.step_history import RunRecord, Step
from runloom.services.temporal import TemporalUnavailableError
from runloom.settings import Settings
from runloom.store import executions
from runloom.store.code import get_compiled_code
from runloom.store.workflows import get_workflow

__all__ = ["QUERY_TIMEOUT_S", "run_steps", "step_details", "step_value"]

# How long a live run's worker has to answer a query before the history alone is used.
QUERY_TIMEOUT_S = 1.0


async def step_details(
    pool: Pool,
    client: Client,
    *,
    claims: Claims,
    execution_id: uuid.UUID,
    settings: Settings,
) -> list[Step]:
    """Every step of the run, inputs and outputs over RUNLOOM_STEP_VALUE_MAX_KB cut."""
    steps = await _steps(pool, client, claims=claims, execution_id=execution_id)
    max_bytes = settings.runloom_step_value_max_kb * 1024
    return [step_history.cut_values(step, max_bytes=max_bytes) for step in steps]


async def step_value(
    pool: Pool,
    client: Client,
    *,
    claims: Claims,
    execution_id: uuid.UUID,
    node_id: str,
    item: int | None = None,
    part: Literal["input", "output"] = "output",
) -> Any:
    """The whole input or output of one step (of one item of a for_each: ``item``);
    NotFoundError when the run has no such step or its output was not kept."""
    steps = await _steps(pool, client, claims=claims, execution_id=execution_id)
    step = next((s for s in steps if s.node_id == node_id and s.item_index == item), None)
    which = f"step {node_id!r}" + ("" if item is None else f" (item {item})")
    if step is None:
        raise NotFoundError(f"execution {execution_id} has no {which}")
    if part == "output" and step.output_missing:
        raise NotFoundError(f"the output of {which} is not available: {step.output_missing}")
    return step.input if part == "input" else step.output


async def _steps(
    pool: Pool, client: Client, *, claims: Claims, execution_id: uuid.UUID
) -> list[Step]:
    execution, types = await _recorded(pool, claims=claims, execution_id=execution_id)
    return await run_steps(client, execution, node_types=types)


async def run_steps(
    client: Client, execution: Execution, *, node_types: Mapping[str, str]
) -> list[Step]:
    """The steps of ``execution`` (as recorded) from its run in Temporal, values whole."""
    record, calls = await _from_temporal(client, execution, node_types)
    return step_history.assemble(record, calls)


async def _recorded(
    pool: Pool, *, claims: Claims, execution_id: uuid.UUID
) -> tuple[Execution, dict[str, str]]:
    """The execution as the user may see it, and its nodes' types: from the version it
    ran (its stored code), else the workflow's graph as it is now."""
    async with user_session(pool, claims) as conn:
        execution = await executions.get_execution(conn, execution_id)
        types: dict[str, str] = {}
        if execution.code_version is not None:
            with contextlib.suppress(NotFoundError):
                code = await get_compiled_code(
                    conn, workflow_id=execution.workflow_id, version=execution.code_version
                )
                types = step_history.node_types(code.files.workflow_code)
        with contextlib.suppress(NotFoundError):
            workflow = await get_workflow(conn, execution.workflow_id)
            for node_id, kind in step_history.graph_node_types(workflow.graph).items():
                types.setdefault(node_id, kind)
    return execution, types


def _database_record(execution: Execution, types: Mapping[str, str]) -> RunRecord:
    return RunRecord(
        node_types=types,
        states=execution.node_states,
        outputs={},
        omitted={},
        run_input=execution.input,
        run_output=execution.output,
        completed=execution.status == "completed",
    )


@dataclass(frozen=True, kw_only=True)
class _Run:
    events: list[HistoryEvent]
    description: WorkflowExecutionDescription


T = TypeVar("T")


async def _temporal_call(call: Awaitable[T]) -> T | None:
    """None if Temporal no longer has the run (past the namespace's retention)."""
    try:
        return await call
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise TemporalUnavailableError(
            f"cannot read the run's history from Temporal: {exc.message}"
        ) from exc


async def _history(handle: WorkflowHandle[Any, Any]) -> list[HistoryEvent]:
    return [event async for event in handle.fetch_history_events()]


async def _from_temporal(
    client: Client, execution: Execution, types: Mapping[str, str]
) -> tuple[RunRecord, list[Call]]:
    database = _database_record(execution, types)
    if not execution.temporal_workflow_id:
        return database, []
    client = namespaces.client_for(client, execution.temporal_namespace)
    handle = client.get_workflow_handle(
        execution.temporal_workflow_id, run_id=execution.temporal_run_id
    )
    description = await _temporal_call(handle.describe())
    if description is None:
        return database, []
    record = await _states_and_outputs(handle, description, database)
    # Read after the states: the history then holds every activity they show as done.
    events = await _temporal_call(_history(handle))
    if events is None:
        return database, []
    calls = await _decoded_calls(
        client.data_converter, _Run(events=events, description=description)
    )
    return record, calls


async def _states_and_outputs(
    handle: WorkflowHandle[Any, Any],
    description: WorkflowExecutionDescription,
    database: RunRecord,
) -> RunRecord:
    """Node states and workflow-side outputs: asked of a live run's worker (else what
    runloom recorded), read from the memo of an ended one."""
    if description.status == WorkflowExecutionStatus.RUNNING:
        answer = await _queried(handle)
        if answer is None:
            return database
        states, outputs = answer
        return dataclasses.replace(database, states=states, outputs=outputs)
    memo_states = await _memo(description, naming.NODE_STATES_MEMO)
    if isinstance(memo_states, dict) and memo_states:
        database = dataclasses.replace(database, states=memo_states)
    kept = await _memo(description, naming.STEP_OUTPUTS_MEMO)
    if isinstance(kept, dict):
        return dataclasses.replace(
            database, outputs=_mapping(kept.get("outputs")), omitted=_mapping(kept.get("omitted"))
        )
    # A run from before that memo: a worker, if one serves it, replays it to answer.
    answer = await _queried(handle)
    return database if answer is None else dataclasses.replace(database, outputs=answer[1])


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


async def _memo(description: WorkflowExecutionDescription, key: str) -> Any:
    try:
        return await description.memo_value(key, None)
    except Exception:  # a memo runloom did not write, in a shape it cannot read
        return None


async def _queried(
    handle: WorkflowHandle[Any, Any],
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The run's node states and outputs so far, if its worker answers in time."""
    try:
        async with asyncio.timeout(QUERY_TIMEOUT_S):
            states, outputs = await asyncio.gather(
                handle.query(naming.NODE_STATES_QUERY), handle.query(naming.STEPS_QUERY)
            )
    except Exception:  # no worker polling (stopped, restarting), or it failed to answer
        return None
    if not isinstance(states, dict) or not isinstance(outputs, dict):
        return None
    return states, outputs


async def _decoded_calls(converter: DataConverter, run: _Run) -> list[Call]:
    workflow_type = step_events.workflow_type_of(run.events) or ""
    pending = {
        info.activity_id: info.attempt
        for info in run.description.raw_description.pending_activities
    }
    calls = []
    for raw in step_events.raw_calls(run.events):
        node_id = naming.node_of_activity(raw.activity_type, workflow_type=workflow_type)
        if node_id is None:
            continue
        failure = None
        if raw.failure is not None:
            failure = await converter.decode_failure(raw.failure)
        calls.append(
            step_events.call_of(
                raw,
                node_id=node_id,
                input=await _first(converter, raw.input),
                result=None if raw.result is None else await _first(converter, raw.result),
                failure=failure,
                pending_attempt=pending.get(raw.activity_id),
            )
        )
    return calls


async def _first(converter: DataConverter, payloads: Payloads) -> Any:
    try:
        values = await converter.decode_wrapper(payloads)
    except Exception as exc:  # not runloom's JSON: shown as what it is, not a failure
        return f"<a value runloom cannot read: {exc}>"
    return values[0] if values else None
