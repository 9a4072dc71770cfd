"""Request bodies and answers of the trigger and webhook routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from runloom.api.schemas import Body
from runloom.models import ExecutionStatus, Overlap, Trigger, TriggerType

Cron = Annotated[str, Field(min_length=1, max_length=200)]
IntervalS = Annotated[int, Field(ge=1, le=366 * 86400)]
Timezone = Annotated[str, Field(min_length=1, max_length=64)]


class TriggerCreate(Body):
    type: TriggerType
    cron: Cron | None = None
    interval_s: IntervalS | None = None
    timezone: Timezone = "UTC"
    input: Any = Field(default_factory=dict, description="A schedule's runs' input")
    overlap: Overlap = "skip"


class TriggerPatch(Body):
    enabled: bool | None = None
    cron: Cron | None = None
    interval_s: IntervalS | None = None
    timezone: Timezone | None = None
    input: Any = None
    overlap: Overlap | None = None


class TriggerView(Trigger):
    url: str | None = Field(description="A webhook's address: POST to it with the token")
    description: str | None = Field(description="A schedule's timing in words")
    next_runs: list[datetime] = Field(description="A schedule's next fire times")
    token: str | None = Field(
        default=None, description="A new webhook's token: shown this once, never again"
    )


class TriggerEnvelope(BaseModel):
    trigger: TriggerView


class TriggerList(BaseModel):
    triggers: list[TriggerView]


class ScheduleTiming(Body):
    cron: Cron | None = None
    interval_s: IntervalS | None = None
    timezone: Timezone = "UTC"


class ScheduleDescription(BaseModel):
    description: str
    next_runs: list[datetime]


class WebhookAnswer(BaseModel):
    """202 while the run goes on; 200 with its outcome when `?wait=` saw it end."""

    execution_id: uuid.UUID
    status: ExecutionStatus
    output: Any = None
    error: str | None = None
