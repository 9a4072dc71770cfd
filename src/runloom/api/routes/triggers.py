"""Triggers of a workflow: webhooks and schedules (create, list, change, delete, run now),
and the description of a schedule's timing for the editor."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status
from temporalio.service import RPCError

from runloom.api.deps import CurrentUser, PoolDep, SchedulerDep, SettingsDep, VaultDep
from runloom.api.schemas_triggers import (
    ScheduleDescription,
    ScheduleTiming,
    TriggerCreate,
    TriggerEnvelope,
    TriggerList,
    TriggerPatch,
    TriggerView,
)
from runloom.db.session import user_session
from runloom.models import Trigger
from runloom.services import schedules, triggers
from runloom.services.schedules import Scheduler
from runloom.services.triggers import NewTrigger, TriggerChange
from runloom.settings import Settings
from runloom.store import triggers as trigger_store
from runloom.store import workflows

router = APIRouter(tags=["triggers"])


def _base_url(request: Request, settings: Settings) -> str:
    return (settings.runloom_public_url or str(request.base_url)).rstrip("/")


async def _view(
    trigger: Trigger, *, scheduler: Scheduler, base_url: str, token: str | None = None
) -> TriggerView:
    fields = trigger.model_dump()
    if trigger.type == "webhook":
        url = f"{base_url}/hooks/{trigger.id}"
        return TriggerView(**fields, url=url, description=None, next_runs=[], token=token)
    described = schedules.describe_spec(
        cron=trigger.cron, interval_s=trigger.interval_s, timezone=trigger.timezone
    )
    try:
        next_runs = await scheduler.next_runs(
            trigger_id=trigger.id, namespace=trigger.temporal_namespace
        )
    except RPCError:  # Temporal is away: what the timing says is the best answer
        next_runs = described.next_runs if trigger.enabled else []
    return TriggerView(**fields, url=None, description=described.description, next_runs=next_runs)


@router.post("/workflows/{workflow_id}/triggers", status_code=status.HTTP_201_CREATED)
async def create_trigger(
    workflow_id: uuid.UUID,
    body: TriggerCreate,
    request: Request,
    user: CurrentUser,
    pool: PoolDep,
    scheduler: SchedulerDep,
    vault: VaultDep,
    settings: SettingsDep,
) -> TriggerEnvelope:
    """A webhook (its `token` is in this answer only) or a schedule on Temporal."""
    trigger, token = await triggers.create_trigger(
        pool,
        scheduler,
        vault,
        claims=user.claims,
        workflow_id=workflow_id,
        new=NewTrigger(**body.model_dump()),
    )
    base_url = _base_url(request, settings)
    view = await _view(trigger, scheduler=scheduler, base_url=base_url, token=token)
    return TriggerEnvelope(trigger=view)


@router.get("/workflows/{workflow_id}/triggers")
async def list_triggers(
    workflow_id: uuid.UUID,
    request: Request,
    user: CurrentUser,
    pool: PoolDep,
    scheduler: SchedulerDep,
    settings: SettingsDep,
) -> TriggerList:
    async with user_session(pool, user.claims) as conn:
        await workflows.get_workflow(conn, workflow_id)
        found = await trigger_store.list_triggers(conn, workflow_id=workflow_id)
    base_url = _base_url(request, settings)
    return TriggerList(
        triggers=[await _view(t, scheduler=scheduler, base_url=base_url) for t in found]
    )


@router.patch("/triggers/{trigger_id}")
async def update_trigger(
    trigger_id: uuid.UUID,
    body: TriggerPatch,
    request: Request,
    user: CurrentUser,
    pool: PoolDep,
    scheduler: SchedulerDep,
    settings: SettingsDep,
) -> TriggerEnvelope:
    """Pause (`enabled: false`), resume, or change a schedule's timing, input or overlap."""
    trigger = await triggers.update_trigger(
        pool,
        scheduler,
        claims=user.claims,
        trigger_id=trigger_id,
        change=TriggerChange(**body.model_dump()),
    )
    view = await _view(trigger, scheduler=scheduler, base_url=_base_url(request, settings))
    return TriggerEnvelope(trigger=view)


@router.delete("/triggers/{trigger_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_trigger(
    trigger_id: uuid.UUID, user: CurrentUser, pool: PoolDep, scheduler: SchedulerDep
) -> Response:
    await triggers.delete_trigger(pool, scheduler, claims=user.claims, trigger_id=trigger_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/triggers/{trigger_id}/run", status_code=status.HTTP_202_ACCEPTED)
async def run_trigger(
    trigger_id: uuid.UUID, user: CurrentUser, pool: PoolDep, scheduler: SchedulerDep
) -> dict[str, str]:
    """Fire a schedule now: its run appears in the run list as started by the schedule."""
    await triggers.run_trigger_now(pool, scheduler, claims=user.claims, trigger_id=trigger_id)
    return {}


@router.post("/schedules/describe")
async def describe_schedule(body: ScheduleTiming, _: CurrentUser) -> ScheduleDescription:
    """A schedule's timing in words and its next five fire times (422 says what to fix)."""
    described = schedules.describe_spec(
        cron=body.cron, interval_s=body.interval_s, timezone=body.timezone
    )
    return ScheduleDescription(description=described.description, next_runs=described.next_runs)
