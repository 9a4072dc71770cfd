"""A run's history read once, to its close: outcome, memo, times and activities, on a real
Temporal dev server with small workflows served in this process."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from runloom import naming
from runloom.services.run_history import read_to_close

QUEUE = f"run-history-{uuid.uuid4().hex[:8]}"


@activity.defn
async def double(n: int) -> int:
    return n * 2


@workflow.defn
class Doubles:
    @workflow.run
    async def run(self, n: int) -> dict[str, Any]:
        workflow.upsert_memo({naming.NODE_STATES_MEMO: {"double": "running"}})
        result = await workflow.execute_activity(
            double, n, start_to_close_timeout=timedelta(seconds=30)
        )
        workflow.upsert_memo({naming.NODE_STATES_MEMO: {"double": "completed"}})
        return {"result": result}


@workflow.defn
class Fails:
    @workflow.run
    async def run(self) -> None:
        raise ApplicationError("no such customer", non_retryable=True)


@workflow.defn
class Waits:
    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)


@pytest.fixture
async def client(temporal_env: WorkflowEnvironment) -> AsyncIterator[Client]:
    async with Worker(
        temporal_env.client,
        task_queue=QUEUE,
        workflows=[Doubles, Fails, Waits],
        activities=[double],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        yield temporal_env.client


async def _start(client: Client, run: Any, *args: Any) -> tuple[str, str, str]:
    execution_id = str(uuid.uuid4())
    handle = await client.start_workflow(
        run,
        *args,
        id=f"history-{execution_id}",
        task_queue=QUEUE,
        memo={naming.MEMO_EXECUTION_ID: execution_id},
    )
    assert handle.result_run_id is not None
    return handle.id, handle.result_run_id, execution_id


async def test_a_completed_run_gives_its_output_its_memo_at_the_close_and_its_activities(
    client: Client,
) -> None:
    workflow_id, run_id, execution_id = await _start(client, Doubles.run, 4)
    history = await read_to_close(client, workflow_id=workflow_id, run_id=run_id)
    assert (history.outcome.status, history.outcome.output) == ("completed", {"result": 8})
    converter = client.data_converter
    assert await history.memo_execution_id(converter) == execution_id
    assert await history.memo_node_states(converter) == {"double": "completed"}
    assert history.start_time <= history.close_time
    assert history.reset_event_id == 0
    types = [e.event_type for e in history.events]
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED in types
    assert types[-1] == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED


async def test_a_failed_run_gives_the_users_error(client: Client) -> None:
    workflow_id, run_id, _ = await _start(client, Fails.run)
    history = await read_to_close(client, workflow_id=workflow_id, run_id=run_id)
    assert (history.outcome.status, history.outcome.error) == ("failed", "no such customer")


async def test_terminated_and_cancelled_runs_say_so(client: Client) -> None:
    workflow_id, run_id, _ = await _start(client, Waits.run)
    await client.get_workflow_handle(workflow_id).terminate(reason="stopped by the test")
    history = await read_to_close(client, workflow_id=workflow_id, run_id=run_id)
    assert (history.outcome.status, history.outcome.error) == ("terminated", "stopped by the test")

    workflow_id, run_id, _ = await _start(client, Waits.run)
    await client.get_workflow_handle(workflow_id).cancel()
    history = await read_to_close(client, workflow_id=workflow_id, run_id=run_id)
    assert history.outcome.status == "cancelled"


async def test_a_run_that_wrote_no_node_states_has_none(client: Client) -> None:
    workflow_id, run_id, _ = await _start(client, Fails.run)
    history = await read_to_close(client, workflow_id=workflow_id, run_id=run_id)
    assert await history.memo_node_states(client.data_converter) is None


async def test_a_run_temporal_does_not_know_is_not_found(client: Client) -> None:
    with pytest.raises(RPCError) as caught:
        await read_to_close(client, workflow_id=f"nobody-{uuid.uuid4()}", run_id=None)
    assert caught.value.status == RPCStatusCode.NOT_FOUND
