"""Workflows: the graph, its compilation, versions, Build and runs."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status
from psycopg import AsyncConnection
from psycopg.rows import DictRow

from runloom import codestore
from runloom.api.deps import CurrentUser, PoolDep, SettingsDep, TemporalClientDep
from runloom.api.schemas import (
    BuildResult,
    CompiledPreview,
    CompileResult,
    DeployResult,
    ExecutionEnvelope,
    ProblemOut,
    StartExecution,
    VersionList,
    VersionOut,
    WorkflowCreate,
    WorkflowEnvelope,
    WorkflowList,
    WorkflowUpdate,
)
from runloom.compiler import CompiledWorkflow, CompileOptions, compile_workflow
from runloom.data import executions, workflows
from runloom.db.session import user_session
from runloom.models import Execution, Workflow
from runloom.settings import Settings
from runloom.temporal import runs, worker_control

router = APIRouter(prefix="/workflows", tags=["workflows"])


def _child_keys(graph: dict[str, Any]) -> set[str]:
    keys = set()
    for node in graph.get("nodes", []):
        if not isinstance(node, dict):
            continue
        config = node.get("config") or {}
        step = config.get("step") if node.get("type") == "for_each" else None
        for candidate in (node, step):
            if isinstance(candidate, dict) and candidate.get("type") == "child_workflow":
                key = (candidate.get("config") or {}).get("workflow")
                if isinstance(key, str):
                    keys.add(key)
    return keys


async def _compile_options(conn: AsyncConnection[DictRow], workflow: Workflow) -> CompileOptions:
    """Child workflows resolve to the active version of their sibling in the project.

    Only the siblings the graph calls are named, so that deploying an unrelated workflow
    does not change this one's code (and spend a version number on nothing).
    """
    wanted = _child_keys(workflow.graph)
    siblings = (
        await workflows.list_workflows(conn, project_id=workflow.project_id) if wanted else []
    )
    return CompileOptions(
        include_comments=True,
        strict_mode=True,
        child_workflow_types={
            w.key: f"{w.key}@v{w.version}"
            for w in siblings
            if w.version is not None and w.key in wanted
        },
    )


@router.get("")
async def list_workflows(
    user: CurrentUser, pool: PoolDep, project_id: uuid.UUID | None = None
) -> WorkflowList:
    async with user_session(pool, user.claims) as conn:
        return WorkflowList(workflows=await workflows.list_workflows(conn, project_id=project_id))


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_workflow(
    body: WorkflowCreate, user: CurrentUser, pool: PoolDep
) -> WorkflowEnvelope:
    async with user_session(pool, user.claims) as conn:
        workflow = await workflows.create_workflow(
            conn,
            user_id=user.user_id,
            project_id=body.project_id,
            name=body.name,
            description=body.description,
            graph=body.graph,
        )
    return WorkflowEnvelope(workflow=workflow)


@router.get("/{workflow_id}")
async def get_workflow(
    workflow_id: uuid.UUID, user: CurrentUser, pool: PoolDep
) -> WorkflowEnvelope:
    async with user_session(pool, user.claims) as conn:
        return WorkflowEnvelope(workflow=await workflows.get_workflow(conn, workflow_id))


@router.put("/{workflow_id}")
async def update_workflow(
    workflow_id: uuid.UUID, body: WorkflowUpdate, user: CurrentUser, pool: PoolDep
) -> WorkflowEnvelope:
    async with user_session(pool, user.claims) as conn:
        workflow = await workflows.update_workflow(
            conn,
            workflow_id,
            name=body.name,
            description=body.description,
            set_description="description" in body.model_fields_set,
            graph=body.graph,
        )
    return WorkflowEnvelope(workflow=workflow)


@router.delete("/{workflow_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_workflow(workflow_id: uuid.UUID, user: CurrentUser, pool: PoolDep) -> Response:
    async with user_session(pool, user.claims) as conn:
        await workflows.delete_workflow(conn, workflow_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{workflow_id}/compile", responses={422: {"description": "Invalid graph"}})
async def compile_preview(
    workflow_id: uuid.UUID, user: CurrentUser, pool: PoolDep
) -> CompileResult:
    """Compile the saved graph and show the code; nothing is stored."""
    async with user_session(pool, user.claims) as conn:
        workflow = await workflows.get_workflow(conn, workflow_id)
        options = await _compile_options(conn, workflow)
    compiled = compile_workflow(
        workflow.graph,
        workflow_key=workflow.key,
        version=(workflow.version or 0) + 1,
        options=options,
    )
    return CompileResult(
        compiled=CompiledPreview(
            workflow_type=compiled.workflow_type,
            workflow_code=compiled.workflow_code,
            activities_code=compiled.activities_code,
            worker_code=compiled.worker_code,
            requirements_txt=compiled.requirements_txt,
            compiler_options_json=compiled.compiler_options_json,
            activity_types=list(compiled.activity_types),
            warnings=[
                ProblemOut.model_validate(w, from_attributes=True) for w in compiled.warnings
            ],
        )
    )


async def _deploy(
    conn: AsyncConnection[DictRow], workflow_id: uuid.UUID, user_id: uuid.UUID
) -> codestore.StoredCode:
    workflow = await workflows.get_workflow(conn, workflow_id)
    return await codestore.deploy_workflow(
        conn,
        workflow_id=workflow_id,
        compiled_by=user_id,
        options=await _compile_options(conn, workflow),
    )


@router.post("/{workflow_id}/deploy", status_code=status.HTTP_201_CREATED)
async def deploy(workflow_id: uuid.UUID, user: CurrentUser, pool: PoolDep) -> DeployResult:
    """Compile and store a new version (or keep the active one if the code is unchanged)."""
    async with user_session(pool, user.claims) as conn:
        stored = await _deploy(conn, workflow_id, user.user_id)
    # The project's worker loads the new version when a run of it is requested.
    return DeployResult(
        version=stored.version,
        code_id=stored.code_id,
        workflow_type=stored.workflow_type,
        created=stored.created,
    )


async def _start(
    *,
    pool: PoolDep,
    client: TemporalClientDep,
    settings: Settings,
    user: CurrentUser,
    workflow_id: uuid.UUID,
    version: str | None,
    input: object,
) -> Execution:
    """Read what to start, start it in Temporal, record it: one transaction when the
    project's worker already serves the version, which is the common case."""
    async with user_session(pool, user.claims) as conn:
        context = await executions.start_context(conn, workflow_id=workflow_id, version=version)
        if context.worker_ready:
            row = await runs.start_run(
                conn, client, claims=user.claims, context=context, input=input
            )
    if not context.worker_ready:
        # Waiting for a worker must not hold a pooled connection: the wait itself needs one.
        await worker_control.request_worker(
            pool, project_id=context.project_id, workflow_type=context.workflow_type
        )
        async with user_session(pool, user.claims) as conn:
            row = await runs.start_run(
                conn, client, claims=user.claims, context=context, input=input
            )
    return executions.execution_model(row, settings=settings)


@router.post("/{workflow_id}/build", status_code=status.HTTP_201_CREATED)
async def build(
    workflow_id: uuid.UUID,
    body: StartExecution,
    user: CurrentUser,
    pool: PoolDep,
    client: TemporalClientDep,
    settings: SettingsDep,
) -> BuildResult:
    """Compile, store, make sure the project's worker runs, and start a run."""
    async with user_session(pool, user.claims) as conn:
        stored = await _deploy(conn, workflow_id, user.user_id)
    # Committed first: the worker manager loads the new version from the database.
    execution = await _start(
        pool=pool,
        client=client,
        settings=settings,
        user=user,
        workflow_id=workflow_id,
        version=stored.version_label,
        input=body.input,
    )
    return BuildResult(
        execution_id=execution.id,
        temporal_workflow_id=execution.temporal_workflow_id or "",
        temporal_run_id=execution.temporal_run_id,
        version=stored.version,
        workflow_type=stored.workflow_type,
        temporal_ui_url=execution.temporal_ui_url,
        execution=execution,
    )


@router.post("/{workflow_id}/executions", status_code=status.HTTP_201_CREATED)
async def start_execution(
    workflow_id: uuid.UUID,
    body: StartExecution,
    user: CurrentUser,
    pool: PoolDep,
    client: TemporalClientDep,
    settings: SettingsDep,
) -> ExecutionEnvelope:
    """Run a deployed version (the active one unless `version` is given)."""
    execution = await _start(
        pool=pool,
        client=client,
        settings=settings,
        user=user,
        workflow_id=workflow_id,
        version=str(body.version) if body.version is not None else None,
        input=body.input,
    )
    return ExecutionEnvelope(execution=execution)


@router.get("/{workflow_id}/versions")
async def list_versions(workflow_id: uuid.UUID, user: CurrentUser, pool: PoolDep) -> VersionList:
    async with user_session(pool, user.claims) as conn:
        workflow = await workflows.get_workflow(conn, workflow_id)
        versions = []
        for entry in await codestore.list_versions(conn, workflow_id=workflow_id):
            code = await codestore.get_compiled_code(
                conn, workflow_id=workflow_id, version=entry.version
            )
            versions.append(
                VersionOut(
                    version=int(entry.version),
                    code_id=entry.code_id,
                    is_active=entry.is_active,
                    compiled_at=entry.compiled_at,
                    execution_count=entry.execution_count,
                    error_count=entry.error_count,
                    avg_execution_duration_ms=entry.avg_execution_duration_ms,
                    workflow_type=f"{workflow.key}@v{entry.version}",
                    workflow_code=code.workflow_code,
                    activities_code=code.activities_code,
                    worker_code=code.worker_code,
                    requirements_txt=code.requirements_txt,
                    compiler_options_json=code.compiler_options_json,
                )
            )
    return VersionList(versions=versions)


@router.post("/{workflow_id}/versions/{version}/activate")
async def activate_version(
    workflow_id: uuid.UUID, version: int, user: CurrentUser, pool: PoolDep
) -> DeployResult:
    """Roll back (or forward) to a stored version: new runs use it."""
    async with user_session(pool, user.claims) as conn:
        stored = await codestore.activate_version(conn, workflow_id=workflow_id, version=version)
    return DeployResult(
        version=stored.version,
        code_id=stored.code_id,
        workflow_type=stored.workflow_type,
        created=False,
    )


@router.get(
    "/{workflow_id}/export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
async def export(
    workflow_id: uuid.UUID,
    user: CurrentUser,
    pool: PoolDep,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The generated project as a zip: `pip install -r requirements.txt && python worker.py`."""
    async with user_session(pool, user.claims) as conn:
        code = await codestore.get_compiled_code(conn, workflow_id=workflow_id, version=version)
    compiled = CompiledWorkflow(
        workflow_key=code.workflow_key,
        version=int(code.version),
        workflow_type=code.workflow_type,
        workflow_class="",
        workflow_code=code.workflow_code,
        activities_code=code.activities_code,
        worker_code=code.worker_code,
        requirements_txt=code.requirements_txt,
        compiler_options_json=code.compiler_options_json,
        activity_types=(),
    )
    filename = f"{code.workflow_key}-v{code.version}.zip"
    return Response(
        compiled.export_zip(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
