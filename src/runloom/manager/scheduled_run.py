"""The action of every schedule trigger: a small workflow on the platform's task queue.

Temporal's schedule starts it at each fire time; it asks a manager which run to start (the
version active *now*, quotas checked, the project's worker up), starts that run as a child
workflow, has the manager record it like any other run, and waits for it to close, so the
schedule's overlap policy (skip, buffer one, allow all) applies to the real run.

Workflow code: deterministic, and importing nothing but Temporal and runloom.naming (it
is re-imported in Temporal's sandbox). The activities it calls by name live in
runloom.manager.scheduled_activities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ChildWorkflowError

from runloom import naming

__all__ = [
    "PLAN_ACTIVITY",
    "RECORD_ACTIVITY",
    "Plan",
    "PlannedRun",
    "RecordRun",
    "ScheduledRun",
]

PLAN_ACTIVITY = "runloom.plan_scheduled_run"
RECORD_ACTIVITY = "runloom.record_scheduled_run"

# The database or a worker may be away for a while: keep trying, nothing is lost, and the
# overlap policy holds back later fires meanwhile.
_PATIENT = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(30))


@dataclass(frozen=True)
class PlannedRun:
    """A run as the plan chose it: what Temporal starts and what runloom records."""

    execution_id: str
    workflow_id: str
    project_id: str
    key: str
    version: int
    code_id: str
    workflow_type: str
    temporal_workflow_id: str
    task_queue: str
    input: Any
    memo: dict[str, str] = field(default_factory=dict)
    # The version's settings.execution_timeout_s (None in plans made before it existed).
    execution_timeout_s: float | None = None


@dataclass(frozen=True)
class Plan:
    """The run to start, or why this fire starts none (paused, not built yet, quota)."""

    run: PlannedRun | None = None
    skip: str | None = None


@dataclass(frozen=True)
class RecordRun:
    trigger_id: str
    run: PlannedRun
    temporal_run_id: str


@workflow.defn(name=naming.SCHEDULED_RUN_WORKFLOW)
class ScheduledRun:
    @workflow.run
    async def run(self, trigger_id: str) -> str:
        plan = await workflow.execute_activity(
            PLAN_ACTIVITY,
            args=[trigger_id, workflow.now().isoformat()],
            result_type=Plan,
            start_to_close_timeout=timedelta(seconds=90),
            retry_policy=_PATIENT,
        )
        if plan.run is None:
            return f"skipped: {plan.skip}"
        planned = plan.run
        child = await workflow.start_child_workflow(
            planned.workflow_type,
            planned.input,
            id=planned.temporal_workflow_id,
            task_queue=planned.task_queue,
            memo=planned.memo,
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            execution_timeout=(
                timedelta(seconds=planned.execution_timeout_s)
                if planned.execution_timeout_s is not None
                else None
            ),
        )
        await workflow.execute_activity(
            RECORD_ACTIVITY,
            RecordRun(
                trigger_id=trigger_id,
                run=planned,
                temporal_run_id=child.first_execution_run_id or "",
            ),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=_PATIENT,
        )
        try:
            await child
        except ChildWorkflowError:
            # The run's failure is the run's: recorded by the tracker, shown in its list.
            return f"run {planned.execution_id} did not complete"
        return f"run {planned.execution_id} completed"
