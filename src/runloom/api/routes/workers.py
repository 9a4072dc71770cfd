"""A project's worker: its registry rows, and start / stop / restart requests."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, status

from runloom.api.deps import CurrentUser, PoolDep, SettingsDep
from runloom.api.schemas import Accepted, WorkerList
from runloom.db.session import user_session
from runloom.services import quotas, worker_requests
from runloom.store import projects

router = APIRouter(prefix="/projects/{project_id}/workers", tags=["workers"])


@router.get("")
async def list_workers(project_id: uuid.UUID, user: CurrentUser, pool: PoolDep) -> WorkerList:
    async with user_session(pool, user.claims) as conn:
        return WorkerList(workers=await projects.worker_history(conn, project_id))


@router.post(
    "/{action}",
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        403: {
            "description": "start or restart: the user's other projects already run "
            "RUNLOOM_QUOTA_WORKERS workers"
        },
        409: {"description": "start or restart: no workflow deployed yet, so no worker"},
    },
)
async def control_worker(
    project_id: uuid.UUID,
    action: Literal["start", "stop", "restart"],
    user: CurrentUser,
    pool: PoolDep,
    settings: SettingsDep,
) -> Accepted:
    async with user_session(pool, user.claims) as conn:
        project = await projects.get_project(conn, project_id)
        if action != "stop":
            worker_requests.require_deployed(
                project_id, deployed_workflows=project.deployed_workflow_count
            )
            await quotas.check_new_worker(
                conn, user_id=user.user_id, project_id=project_id, settings=settings
            )
    if action == "start":
        await worker_requests.request_worker(pool, project_id=project_id)
    elif action == "stop":
        await worker_requests.request_stop(pool, project_id=project_id)
    else:
        await worker_requests.request_restart(pool, project_id=project_id)
    return Accepted(detail=f"worker {action} requested")
