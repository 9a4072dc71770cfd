"""Webhook calls: `POST /hooks/{trigger_id}` starts a run of the workflow's active version.

Outside `/api`: the caller is a program of someone else's (a payment provider, a CI), which
holds the webhook's token, not a runloom account.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from runloom.api.deps import PoolDep, RateLimitsDep, SettingsDep, TemporalClientDep, VaultDep
from runloom.api.schemas_triggers import WebhookAnswer
from runloom.services import runs, webhooks
from runloom.services.webhooks import WebhookCall

router = APIRouter(prefix="/hooks", tags=["webhooks"])


@router.post(
    "/{trigger_id}",
    status_code=202,
    responses={
        200: {"model": WebhookAnswer, "description": "The run ended within `wait` seconds"},
        401: {"description": "No token, a wrong token or a wrong signature: nothing started"},
        409: {"description": "The webhook is paused"},
    },
)
async def call_webhook(
    trigger_id: uuid.UUID,
    request: Request,
    pool: PoolDep,
    client: TemporalClientDep,
    vault: VaultDep,
    settings: SettingsDep,
    limits: RateLimitsDep,
    wait: Annotated[
        float | None, Query(gt=0, description="Seconds to wait for the run's output")
    ] = None,
) -> JSONResponse:
    """Start a run with the JSON body as input (headers and query under `_webhook`)."""
    limits.check_webhook(trigger_id=str(trigger_id))
    call = WebhookCall(
        trigger_id=trigger_id,
        body=await request.body(),
        headers={k.lower(): v for k, v in request.headers.items()},
        query={k: request.query_params.getlist(k) for k in request.query_params if k != "wait"},
    )
    execution = await webhooks.start_from_webhook(pool, client, vault, call=call, settings=settings)
    answer = WebhookAnswer(execution_id=execution.id, status=execution.status)
    if wait is not None:
        outcome = await runs.wait_for_outcome(
            client, execution, wait_s=min(wait, settings.runloom_webhook_max_wait_s)
        )
        if outcome is not None:
            answer = WebhookAnswer(
                execution_id=execution.id,
                status=outcome.status,
                output=outcome.output,
                error=outcome.error,
            )
            return JSONResponse(answer.model_dump(mode="json"), status_code=200)
    return JSONResponse(answer.model_dump(mode="json"), status_code=202)
