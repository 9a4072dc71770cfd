"""Projects: list, create, read (with workers and statistics), update, delete."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from runloom.api.deps import CurrentUser, PoolDep, SchedulerDep, SettingsDep, UnscopedUser
from runloom.api.schemas import ProjectCreate, ProjectEnvelope, ProjectList, ProjectUpdate
from runloom.db.session import user_session
from runloom.services import quotas, triggers, worker_requests
from runloom.store import projects, stats
from runloom.store import triggers as trigger_store

router = APIRouter(prefix="/projects", tags=["projects"])


@router.get("")
async def list_projects(user: CurrentUser, pool: PoolDep) -> ProjectList:
    async with user_session(pool, user.claims) as conn:
        return ProjectList(projects=await projects.list_projects(conn))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={
        403: {
            "description": "The user has RUNLOOM_QUOTA_PROJECTS projects already, or the "
            "caller is an API key limited to one project"
        }
    },
)
async def create_project(
    body: ProjectCreate, user: UnscopedUser, pool: PoolDep, settings: SettingsDep
) -> ProjectEnvelope:
    async with user_session(pool, user.claims) as conn:
        await quotas.check_new_project(conn, user_id=user.user_id, settings=settings)
        project = await projects.create_project(
            conn, user_id=user.user_id, name=body.name, description=body.description
        )
    return ProjectEnvelope(project=project)


@router.get("/{project_id}")
async def get_project(project_id: uuid.UUID, user: CurrentUser, pool: PoolDep) -> ProjectEnvelope:
    async with user_session(pool, user.claims) as conn:
        return ProjectEnvelope(project=await projects.get_project(conn, project_id))


@router.patch("/{project_id}")
async def update_project(
    project_id: uuid.UUID, body: ProjectUpdate, user: CurrentUser, pool: PoolDep
) -> ProjectEnvelope:
    async with user_session(pool, user.claims) as conn:
        before = await projects.get_project(conn, project_id)
        project = await projects.update_project(
            conn,
            project_id,
            name=body.name,
            description=body.description,
            set_description="description" in body.model_fields_set,
            python_network=body.python_network,
            failure_webhook_url=body.failure_webhook_url,
            set_failure_webhook_url="failure_webhook_url" in body.model_fields_set,
        )
    if project.python_network != before.python_network and before.workers:
        # Runners get their network when they start: the worker starts over.
        await worker_requests.request_restart(pool, project_id=project_id)
    return ProjectEnvelope(project=project)


@router.delete("/{project_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_project(
    project_id: uuid.UUID, user: CurrentUser, pool: PoolDep, scheduler: SchedulerDep
) -> Response:
    async with user_session(pool, user.claims) as conn:
        await projects.get_project(conn, project_id)
    # Its worker goes first, so nothing polls a task queue whose project is gone.
    await worker_requests.request_stop(pool, project_id=project_id)
    async with user_session(pool, user.claims) as conn:
        schedule_ids = await trigger_store.schedule_ids(conn, project_id=project_id)
        await projects.delete_project(conn, project_id)
    await triggers.delete_schedules(scheduler, schedule_ids)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{project_id}/stats")
async def project_stats(
    project_id: uuid.UUID,
    user: CurrentUser,
    pool: PoolDep,
    hours: Annotated[int, Query(ge=1, le=24 * 90)] = 24,
) -> stats.ProjectStatistics:
    async with user_session(pool, user.claims) as conn:
        return await stats.project_statistics(conn, project_id, hours=hours)
