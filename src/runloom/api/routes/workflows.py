"""Workflows: the graph, its compilation, versions, Build and runs."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from runloom import naming
from runloom.api.deps import (
    START_LIMITS,
    CurrentUser,
    PoolDep,
    SchedulerDep,
    SettingsDep,
    StartRateLimit,
    TemporalClientDep,
    origin_of,
)
from runloom.api.schemas import (
    BuildResult,
    CompiledPreview,
    CompileRequest,
    CompileResult,
    DeployResult,
    ExecutionEnvelope,
    ProblemOut,
    StartExecution,
    VersionGraph,
    VersionList,
    VersionOut,
    WorkflowCreate,
    WorkflowEnvelope,
    WorkflowList,
    WorkflowUpdate,
)
from runloom.db.session import user_session
from runloom.services import deploy, quotas, runs, triggers
from runloom.store import code, workflows
from runloom.store import triggers as trigger_store

router = APIRouter(prefix="/workflows", tags=["workflows"])


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
async def delete_workflow(
    workflow_id: uuid.UUID, user: CurrentUser, pool: PoolDep, scheduler: SchedulerDep
) -> Response:
    """The workflow, its versions, runs and triggers (their Temporal schedules too)."""
    async with user_session(pool, user.claims) as conn:
        schedule_ids = await trigger_store.schedule_ids(conn, workflow_id=workflow_id)
        await workflows.delete_workflow(conn, workflow_id)
    await triggers.delete_schedules(scheduler, schedule_ids)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{workflow_id}/compile", responses={422: {"description": "Invalid graph"}})
async def compile_preview(
    workflow_id: uuid.UUID,
    user: CurrentUser,
    pool: PoolDep,
    settings: SettingsDep,
    body: CompileRequest | None = None,
) -> CompileResult:
    """Compile the saved graph, or the draft `graph` of the body, and show the code;
    nothing is stored."""
    draft = body.graph if body is not None else None
    async with user_session(pool, user.claims) as conn:
        compiled = await deploy.preview(
            conn, workflow_id, bounds=quotas.run_bounds(settings), graph=draft
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


@router.post("/{workflow_id}/deploy", status_code=status.HTTP_201_CREATED)
async def deploy_version(
    workflow_id: uuid.UUID, user: CurrentUser, pool: PoolDep, settings: SettingsDep
) -> DeployResult:
    """Compile and store a new version (or keep the active one if the code is unchanged)."""
    async with user_session(pool, user.claims) as conn:
        stored = await deploy.deploy_workflow(
            conn,
            workflow_id=workflow_id,
            compiled_by=user.user_id,
            bounds=quotas.run_bounds(settings),
        )
    # The project's worker loads the new version when a run of it is requested.
    return DeployResult(
        version=stored.version,
        code_id=stored.code_id,
        workflow_type=stored.workflow_type,
        created=stored.created,
    )


@router.post("/{workflow_id}/build", status_code=status.HTTP_201_CREATED, responses=START_LIMITS)
async def build(
    workflow_id: uuid.UUID,
    body: StartExecution,
    user: CurrentUser,
    _: StartRateLimit,
    pool: PoolDep,
    client: TemporalClientDep,
    settings: SettingsDep,
) -> BuildResult:
    """Compile, store, make sure the project's worker runs, and start a run.

    A start counts against the user's start rate (429) and open-run quota (403)."""
    async with user_session(pool, user.claims) as conn:
        stored = await deploy.deploy_workflow(
            conn,
            workflow_id=workflow_id,
            compiled_by=user.user_id,
            bounds=quotas.run_bounds(settings),
        )
    # Committed first: the worker manager loads the new version from the database.
    execution = await runs.start_execution(
        pool,
        client,
        claims=user.claims,
        workflow_id=workflow_id,
        version=stored.version,
        input=body.input,
        settings=settings,
        origin=origin_of(user),
    )
    execution = runs.with_ui_link(execution, settings=settings)
    return BuildResult(
        execution_id=execution.id,
        temporal_workflow_id=execution.temporal_workflow_id or "",
        temporal_run_id=execution.temporal_run_id,
        version=stored.version,
        workflow_type=stored.workflow_type,
        temporal_ui_url=execution.temporal_ui_url,
        execution=execution,
    )


@router.post(
    "/{workflow_id}/executions",
    status_code=status.HTTP_201_CREATED,
    responses={
        **START_LIMITS,
        200: {"model": ExecutionEnvelope, "description": "The run ended within `wait` seconds"},
        202: {
            "model": ExecutionEnvelope,
            "description": "The run did not end within `wait` seconds; it goes on",
        },
    },
)
async def start_execution(
    workflow_id: uuid.UUID,
    body: StartExecution,
    user: CurrentUser,
    _: StartRateLimit,
    pool: PoolDep,
    client: TemporalClientDep,
    settings: SettingsDep,
    response: Response,
    wait: Annotated[
        float | None,
        Query(gt=0, description="Seconds to wait for the run's end (RUNLOOM_WEBHOOK_MAX_WAIT_S)"),
    ] = None,
) -> ExecutionEnvelope:
    """Run a deployed version (the active one unless `version` is given); with `wait`,
    answer with how it ended if it ends in time (200), else with the running run (202).

    A start counts against the user's start rate (429) and open-run quota (403)."""
    wait_s = None if wait is None else runs.checked_wait(wait, settings=settings)
    execution = await runs.start_execution(
        pool,
        client,
        claims=user.claims,
        workflow_id=workflow_id,
        version=body.version,
        input=body.input,
        settings=settings,
        origin=origin_of(user),
    )
    if wait_s is not None:
        outcome = await runs.wait_for_outcome(client, execution, wait_s=wait_s)
        response.status_code = status.HTTP_202_ACCEPTED if outcome is None else status.HTTP_200_OK
        if outcome is not None:
            execution = runs.with_ended(execution, outcome)
    return ExecutionEnvelope(execution=runs.with_ui_link(execution, settings=settings))


@router.get("/{workflow_id}/versions")
async def list_versions(workflow_id: uuid.UUID, user: CurrentUser, pool: PoolDep) -> VersionList:
    async with user_session(pool, user.claims) as conn:
        workflow = await workflows.get_workflow(conn, workflow_id)
        versions = await code.list_versions(conn, workflow_id=workflow_id)
    return VersionList(
        versions=[
            VersionOut(
                version=entry.version,
                code_id=entry.code_id,
                is_active=entry.is_active,
                compiled_at=entry.compiled_at,
                execution_count=entry.execution_count,
                error_count=entry.error_count,
                avg_execution_duration_ms=entry.avg_execution_duration_ms,
                workflow_type=naming.workflow_type(workflow.key, entry.version),
                workflow_code=entry.files.workflow_code,
                activities_code=entry.files.activities_code,
                worker_code=entry.files.worker_code,
                requirements_txt=entry.files.requirements_txt,
                compiler_options_json=entry.files.compiler_options_json,
            )
            for entry in versions
        ]
    )


@router.get("/{workflow_id}/versions/{version}/graph")
async def version_graph(
    workflow_id: uuid.UUID, version: int, user: CurrentUser, pool: PoolDep
) -> VersionGraph:
    """The graph a version was compiled from (the versions page diffs and previews it)."""
    async with user_session(pool, user.claims) as conn:
        graph = await code.version_graph(conn, workflow_id=workflow_id, version=version)
    return VersionGraph(version=version, graph=graph)


@router.post("/{workflow_id}/versions/{version}/activate")
async def activate_version(
    workflow_id: uuid.UUID, version: int, user: CurrentUser, pool: PoolDep
) -> DeployResult:
    """Roll back (or forward) to a stored version: new runs use it, and the workflow's draft
    graph becomes the graph it was compiled from (when the version kept one)."""
    async with user_session(pool, user.claims) as conn:
        stored = await code.activate_version(conn, workflow_id=workflow_id, version=version)
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
        record = await code.get_compiled_code(conn, workflow_id=workflow_id, version=version)
    filename, archive = deploy.export_zip(record)
    return Response(
        archive,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
