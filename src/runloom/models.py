"""The objects runloom hands across its boundaries (API answers, CLI, tracker)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

ExecutionStatus = Literal[
    "pending", "running", "completed", "failed", "cancelled", "terminated", "timed_out"
]
OPEN_STATUSES: frozenset[str] = frozenset({"pending", "running"})
WorkerStatus = Literal["starting", "running", "stopping", "stopped", "failed"]
TriggeredBy = Literal["manual", "api", "webhook", "schedule"]
TriggerType = Literal["webhook", "schedule"]
Overlap = Literal["skip", "buffer_one", "allow_all"]


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)


class User(Model):
    id: uuid.UUID
    email: str
    created_at: datetime


class Worker(Model):
    id: uuid.UUID
    worker_id: str
    status: WorkerStatus
    task_queue_name: str
    host: str | None
    process_id: str | None
    started_at: datetime | None
    stopped_at: datetime | None
    last_heartbeat: datetime | None
    cpu_usage_percent: float | None
    memory_usage_mb: int | None
    total_tasks_completed: int | None
    total_tasks_failed: int | None
    metadata: dict[str, Any] | None


class Project(Model):
    id: uuid.UUID
    name: str
    description: str | None
    task_queue_name: str
    is_active: bool
    # Python nodes of the project may make guarded HTTP(S) requests (off: no network).
    python_network: bool = False
    # Where a notice of each failed or timed-out run is POSTed (runloom.manager.notify).
    failure_webhook_url: str | None = None
    # Its Temporal namespace, decided at creation (None: the shared TEMPORAL_NAMESPACE).
    temporal_namespace: str | None = None
    created_by: uuid.UUID
    created_at: datetime
    updated_at: datetime
    total_workflow_executions: int | None
    total_activity_executions: int | None
    avg_execution_duration_ms: int | None
    last_execution_at: datetime | None
    workflow_count: int = 0
    # Workflows with an active version; with none, the project has no worker to start.
    deployed_workflow_count: int = 0
    workers: list[Worker] = []


class Workflow(Model):
    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    key: str
    description: str | None
    graph: dict[str, Any]
    version: int | None
    created_at: datetime
    updated_at: datetime


class Execution(Model):
    id: uuid.UUID
    workflow_id: uuid.UUID
    project_id: uuid.UUID | None
    status: ExecutionStatus
    input: Any
    output: Any
    error: str | None
    node_states: dict[str, Any]
    code_version: int | None
    workflow_type: str | None
    task_queue_name: str | None
    temporal_workflow_id: str | None
    temporal_run_id: str | None
    temporal_ui_url: str | None = None
    # Its project's namespace, copied at start (None: the shared TEMPORAL_NAMESPACE).
    temporal_namespace: str | None = None
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    created_at: datetime
    triggered_by: TriggeredBy = "manual"
    trigger_id: uuid.UUID | None = None
    # The failed run this one continues from its failed step (POST .../retry), or the run
    # it starts again from scratch (POST .../rerun).
    retry_of: uuid.UUID | None = None
    rerun_of: uuid.UUID | None = None


class ApiKey(Model):
    """An API key as its owner lists it: never the key itself nor its hash."""

    id: uuid.UUID
    name: str
    prefix: str
    project_id: uuid.UUID | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class Trigger(Model):
    """A webhook or a schedule of a workflow, as its owner sees it: never a token."""

    id: uuid.UUID
    workflow_id: uuid.UUID
    project_id: uuid.UUID
    type: TriggerType
    enabled: bool
    token_prefix: str | None
    cron: str | None
    interval_s: int | None
    timezone: str
    input: Any
    overlap: Overlap
    created_at: datetime
    updated_at: datetime
    # Where its Temporal schedule lives: its project's namespace (None: the shared one).
    temporal_namespace: str | None = None


class SecretInfo(Model):
    """A project secret as its owner lists it: never its value."""

    name: str
    created_at: datetime
    updated_at: datetime
