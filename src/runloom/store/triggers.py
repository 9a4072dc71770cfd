"""Triggers: webhooks and schedules of a workflow (their Temporal side is
runloom.services.schedules)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from runloom.errors import NotFoundError
from runloom.models import Overlap, Trigger, TriggerType
from runloom.store.queries import sql

__all__ = [
    "ScheduleRef",
    "ScheduleSpec",
    "TriggerPrincipal",
    "WebhookToken",
    "delete_trigger",
    "get_trigger",
    "insert_trigger",
    "list_triggers",
    "schedule_ids",
    "trigger_principal",
    "update_trigger",
]

Conn = AsyncConnection[DictRow]


@dataclass(frozen=True, slots=True)
class WebhookToken:
    """How a webhook's token is kept: its hash (bearer checks) and, encrypted, itself
    (HMAC signatures are keyed by it)."""

    hash: str
    ciphertext: bytes
    prefix: str


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """When a schedule fires (one of `cron` and `interval_s`) and how."""

    cron: str | None
    interval_s: int | None
    timezone: str
    input: Any
    overlap: Overlap


@dataclass(frozen=True, slots=True)
class TriggerPrincipal:
    """A trigger as a webhook call or a schedule's action meets it, and whom it acts as."""

    id: uuid.UUID
    workflow_id: uuid.UUID
    project_id: uuid.UUID
    type: TriggerType
    enabled: bool
    input: Any
    token_hash: str | None
    token_ciphertext: bytes | None
    user_id: uuid.UUID
    email: str | None


async def insert_trigger(
    conn: Conn,
    *,
    trigger_id: uuid.UUID,
    workflow_id: uuid.UUID,
    user_id: uuid.UUID,
    kind: TriggerType,
    token: WebhookToken | None = None,
    schedule: ScheduleSpec | None = None,
) -> Trigger:
    """User session: a trigger of a workflow the caller owns (NotFoundError otherwise)."""
    cur = await conn.execute(
        sql("triggers_insert"),
        {
            "id": trigger_id,
            "workflow_id": workflow_id,
            "user_id": user_id,
            "type": kind,
            "token_hash": token.hash if token else None,
            "token_ciphertext": token.ciphertext if token else None,
            "token_prefix": token.prefix if token else None,
            "cron": schedule.cron if schedule else None,
            "interval_s": schedule.interval_s if schedule else None,
            "timezone": schedule.timezone if schedule else "UTC",
            "input": Jsonb(schedule.input if schedule else {}),
            "overlap": schedule.overlap if schedule else "skip",
        },
    )
    row = await cur.fetchone()
    if row is None:
        raise NotFoundError(f"workflow {workflow_id} not found")
    return Trigger.model_validate(row)


async def list_triggers(conn: Conn, *, workflow_id: uuid.UUID) -> list[Trigger]:
    cur = await conn.execute(sql("triggers_list"), {"workflow_id": workflow_id})
    return [Trigger.model_validate(row) for row in await cur.fetchall()]


async def get_trigger(conn: Conn, trigger_id: uuid.UUID) -> Trigger:
    """User session: the trigger, locked until the transaction ends."""
    row = await (await conn.execute(sql("triggers_get"), {"id": trigger_id})).fetchone()
    if row is None:
        raise NotFoundError(f"trigger {trigger_id} not found")
    return Trigger.model_validate(row)


async def update_trigger(
    conn: Conn, *, trigger_id: uuid.UUID, enabled: bool, schedule: ScheduleSpec
) -> Trigger:
    cur = await conn.execute(
        sql("triggers_update"),
        {
            "id": trigger_id,
            "enabled": enabled,
            "cron": schedule.cron,
            "interval_s": schedule.interval_s,
            "timezone": schedule.timezone,
            "input": Jsonb(schedule.input),
            "overlap": schedule.overlap,
        },
    )
    row = await cur.fetchone()
    if row is None:
        raise NotFoundError(f"trigger {trigger_id} not found")
    return Trigger.model_validate(row)


async def delete_trigger(conn: Conn, trigger_id: uuid.UUID) -> None:
    cur = await conn.execute(sql("triggers_delete"), {"id": trigger_id})
    if await cur.fetchone() is None:
        raise NotFoundError(f"trigger {trigger_id} not found")


@dataclass(frozen=True, slots=True)
class ScheduleRef:
    """A schedule trigger's id and the namespace its Temporal schedule lives in (None:
    the shared one)."""

    trigger_id: uuid.UUID
    temporal_namespace: str | None = None


async def schedule_ids(
    conn: Conn, *, workflow_id: uuid.UUID | None = None, project_id: uuid.UUID | None = None
) -> list[ScheduleRef]:
    """A workflow's or a project's schedules: their Temporal schedules go when it does."""
    cur = await conn.execute(
        sql("triggers_schedule_ids"), {"workflow_id": workflow_id, "project_id": project_id}
    )
    return [ScheduleRef(row["id"], row["temporal_namespace"]) for row in await cur.fetchall()]


async def trigger_principal(conn: Conn, trigger_id: uuid.UUID) -> TriggerPrincipal | None:
    """Service session: the trigger and its owner, or None when it is gone."""
    row = await (await conn.execute(sql("triggers_principal"), {"id": trigger_id})).fetchone()
    return None if row is None else TriggerPrincipal(**row)
