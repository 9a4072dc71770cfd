"""Request bodies and response envelopes of the HTTP API (domain objects: runloom.models)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from runloom.models import ApiKey, Execution, Project, User, Worker, Workflow

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(value: str) -> str:
    value = value.strip()
    if not _EMAIL.match(value):
        raise ValueError("must be an email address like name@example.com")
    return value.lower()


Email = Annotated[str, Field(max_length=320), AfterValidator(_email)]

MAX_WEBHOOK_URL = 2048  # also the database's check (migration 20251223000001)


def _is_web_url(value: str) -> bool:
    if len(value) > MAX_WEBHOOK_URL or not value.isprintable() or " " in value:
        return False
    try:
        parts = urlsplit(value)
        _ = parts.port  # a port out of range raises ValueError
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _webhook_url(value: str) -> str:
    # Only its shape: where it may point is decided each time it is called, by the
    # egress guard on the address then connected to (DNS may change after this check).
    value = value.strip()
    if not _is_web_url(value):
        raise ValueError(
            f"must be an http:// or https:// URL with a host, at most {MAX_WEBHOOK_URL} "
            "characters, without spaces"
        )
    return value


WebhookUrl = Annotated[str, AfterValidator(_webhook_url)]
Name = Annotated[str, Field(min_length=1, max_length=255, pattern=r"\S")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Credentials(Body):
    email: Email
    password: str = Field(min_length=8, max_length=256)


class Session(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    user: User


class ProjectCreate(Body):
    name: Name
    description: str | None = Field(default=None, max_length=10_000)


class ProjectUpdate(Body):
    name: Name | None = None
    description: str | None = Field(default=None, max_length=10_000)
    python_network: bool | None = Field(
        default=None,
        description="Let python nodes make HTTP(S) requests, through the same guard as "
        "http nodes (never loopback, private ranges or runloom's own services)",
    )
    failure_webhook_url: WebhookUrl | None = Field(
        default=None,
        description="POST a JSON notice here when a run of the project ends failed or "
        "timed out (null: no notice); sent through the same guard as http nodes",
    )


class ProjectEnvelope(BaseModel):
    project: Project


class ProjectList(BaseModel):
    projects: list[Project]


class WorkerList(BaseModel):
    workers: list[Worker]


class WorkflowCreate(Body):
    project_id: uuid.UUID
    name: Name
    description: str | None = Field(default=None, max_length=10_000)
    graph: dict[str, Any] | None = None


class WorkflowUpdate(Body):
    name: Name | None = None
    description: str | None = Field(default=None, max_length=10_000)
    graph: dict[str, Any] | None = None


class WorkflowEnvelope(BaseModel):
    workflow: Workflow


class WorkflowList(BaseModel):
    workflows: list[Workflow]


class ProblemOut(BaseModel):
    code: str
    message: str
    node_id: str | None
    edge_index: int | None
    severity: Literal["error", "warning"]


class GeneratedCode(BaseModel):
    """The files of one compiled version, as stored and as exported."""

    workflow_type: str
    workflow_code: str
    activities_code: str
    worker_code: str
    requirements_txt: str
    compiler_options_json: str


class CompiledPreview(GeneratedCode):
    activity_types: list[str]
    warnings: list[ProblemOut]


class CompileResult(BaseModel):
    compiled: CompiledPreview


class CompileRequest(Body):
    """A draft graph to compile instead of the saved one; nothing is stored."""

    graph: dict[str, Any] | None = None


class DeployResult(BaseModel):
    version: int
    code_id: uuid.UUID
    workflow_type: str
    created: bool


class RunInput(Body):
    input: Any = Field(default_factory=dict)


class StartExecution(Body):
    input: Any = Field(default_factory=dict)
    version: int | None = Field(default=None, ge=1)


class BuildResult(BaseModel):
    execution_id: uuid.UUID
    temporal_workflow_id: str
    temporal_run_id: str | None
    version: int
    workflow_type: str
    temporal_ui_url: str | None
    execution: Execution


class ExecutionEnvelope(BaseModel):
    execution: Execution


class ExecutionList(BaseModel):
    executions: list[Execution]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; none on the last"
    )
    counts: dict[str, int] = Field(
        default_factory=dict, description="Matching runs by status (status filter aside)"
    )
    total: int = Field(default=0, description="Matching runs, every filter applied")


class SignalBody(Body):
    name: str = Field(min_length=1, max_length=200)
    payload: Any = None


class RerunBody(Body):
    # None: the version active now; a number: that deployed version.
    version: int | None = Field(default=None, ge=1)


class TerminateBody(Body):
    reason: str | None = Field(default=None, max_length=1000)


class Accepted(BaseModel):
    accepted: bool = True
    detail: str


class VersionOut(GeneratedCode):
    version: int
    code_id: uuid.UUID
    is_active: bool
    compiled_at: datetime
    execution_count: int | None
    error_count: int | None
    avg_execution_duration_ms: int | None


class VersionList(BaseModel):
    versions: list[VersionOut]


class VersionGraph(BaseModel):
    """The graph one version was compiled from; null for versions stored before graphs were
    kept."""

    version: int
    graph: dict[str, Any] | None


class ApiKeyCreate(Body):
    name: Name
    project_id: uuid.UUID | None = None
    expires_at: datetime | None = None


class ApiKeyCreated(ApiKey):
    key: str = Field(description="The key itself: shown this once, never again")


class ApiKeyList(BaseModel):
    api_keys: list[ApiKey]


class StreamTicket(BaseModel):
    """Opens one live stream: ``GET /api/executions/{id}/events?ticket=...``, once, within
    ``expires_in_s`` seconds."""

    ticket: str
    expires_in_s: int
