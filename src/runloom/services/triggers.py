"""Triggers of a workflow: create, change, delete and fire webhooks and schedules.

A schedule's row and its Temporal schedule change together: the Temporal call is made
inside the row's transaction, so a refused call leaves the row as it was, and a failed
commit after a created schedule deletes it again.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from runloom.auth import key_claims, token_digest
from runloom.db.pool import Pool
from runloom.db.session import Claims, user_session
from runloom.errors import InvalidRequestError
from runloom.models import Overlap, Trigger, TriggerType
from runloom.services import schedules
from runloom.services.schedules import Scheduler
from runloom.store import triggers
from runloom.store.triggers import ScheduleRef, ScheduleSpec, TriggerPrincipal, WebhookToken
from runloom.vault import Vault

__all__ = [
    "TOKEN_PREFIX",
    "NewTrigger",
    "TriggerChange",
    "acting_claims",
    "create_trigger",
    "delete_schedules",
    "delete_trigger",
    "run_trigger_now",
    "token_context",
    "token_matches",
    "update_trigger",
]

TOKEN_PREFIX = "rlh_"  # noqa: S105 - a prefix, not a secret
_TOKEN_BYTES = 32
_DISPLAY_CHARS = 8


@dataclass(frozen=True, slots=True)
class NewTrigger:
    type: TriggerType
    cron: str | None = None
    interval_s: int | None = None
    timezone: str = "UTC"
    input: Any = None
    overlap: Overlap = "skip"


@dataclass(frozen=True, slots=True)
class TriggerChange:
    """Fields to change; None leaves one as it is (`cron` and `interval_s` replace each
    other: giving one clears the other)."""

    enabled: bool | None = None
    cron: str | None = None
    interval_s: int | None = None
    timezone: str | None = None
    input: Any = None
    overlap: Overlap | None = None

    @property
    def changes_timing(self) -> bool:
        fields = (self.cron, self.interval_s, self.timezone, self.input, self.overlap)
        return any(value is not None for value in fields)


def acting_claims(principal: TriggerPrincipal) -> Claims:
    """A webhook call or a schedule's action carries no user's token: the run starts as the
    trigger's owner, limited to its project, as a project-scoped API key would."""
    return key_claims(
        user_id=principal.user_id, email=principal.email, project_id=principal.project_id
    )


def token_context(trigger_id: uuid.UUID) -> str:
    """What a webhook token's ciphertext is bound to: it decrypts for this trigger only."""
    return f"webhook-token:{trigger_id}"


def _new_token(vault: Vault, trigger_id: uuid.UUID) -> tuple[str, WebhookToken]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)
    stored = WebhookToken(
        hash=token_digest(token),
        ciphertext=vault.encrypt(token, context=token_context(trigger_id)),
        prefix=token[: len(TOKEN_PREFIX) + _DISPLAY_CHARS],
    )
    return token, stored


def token_matches(stored_hash: str, token: str) -> bool:
    return hmac.compare_digest(stored_hash, token_digest(token))


async def create_trigger(
    pool: Pool,
    scheduler: Scheduler,
    vault: Vault,
    *,
    claims: Claims,
    workflow_id: uuid.UUID,
    new: NewTrigger,
) -> tuple[Trigger, str | None]:
    """The trigger, and a webhook's token (shown once; None for a schedule)."""
    trigger_id = uuid.uuid4()
    user_id = uuid.UUID(claims["sub"])
    if new.type == "webhook":
        if new.cron is not None or new.interval_s is not None:
            raise InvalidRequestError("a webhook has no cron or interval_s; it runs when called")
        token, stored = _new_token(vault, trigger_id)
        async with user_session(pool, claims) as conn:
            trigger = await triggers.insert_trigger(
                conn,
                trigger_id=trigger_id,
                workflow_id=workflow_id,
                user_id=user_id,
                kind="webhook",
                token=stored,
            )
        return trigger, token
    spec = ScheduleSpec(
        cron=new.cron,
        interval_s=new.interval_s,
        timezone=new.timezone,
        input={} if new.input is None else new.input,
        overlap=new.overlap,
    )
    schedules.check_spec(cron=spec.cron, interval_s=spec.interval_s, timezone=spec.timezone)
    created = False
    try:
        async with user_session(pool, claims) as conn:
            trigger = await triggers.insert_trigger(
                conn,
                trigger_id=trigger_id,
                workflow_id=workflow_id,
                user_id=user_id,
                kind="schedule",
                schedule=spec,
            )
            namespace = trigger.temporal_namespace
            await scheduler.create(trigger_id=trigger_id, spec=spec, namespace=namespace)
            created = True
    except BaseException:
        if created:  # the commit failed after Temporal made the schedule
            await scheduler.delete(trigger_id=trigger_id, namespace=trigger.temporal_namespace)
        raise
    return trigger, None


def _changed_spec(trigger: Trigger, change: TriggerChange) -> ScheduleSpec:
    cron, interval_s = trigger.cron, trigger.interval_s
    if change.cron is not None:
        cron, interval_s = change.cron, None
    elif change.interval_s is not None:
        cron, interval_s = None, change.interval_s
    return ScheduleSpec(
        cron=cron,
        interval_s=interval_s,
        timezone=change.timezone or trigger.timezone,
        input=trigger.input if change.input is None else change.input,
        overlap=change.overlap or trigger.overlap,
    )


async def update_trigger(
    pool: Pool,
    scheduler: Scheduler,
    *,
    claims: Claims,
    trigger_id: uuid.UUID,
    change: TriggerChange,
) -> Trigger:
    """Pause, resume or retime a trigger (a webhook can only be paused and resumed)."""
    async with user_session(pool, claims) as conn:
        trigger = await triggers.get_trigger(conn, trigger_id)
        if trigger.type == "webhook" and change.changes_timing:
            raise InvalidRequestError("a webhook can only be paused or resumed (`enabled`)")
        spec = _changed_spec(trigger, change)
        if trigger.type == "schedule":
            schedules.check_spec(cron=spec.cron, interval_s=spec.interval_s, timezone=spec.timezone)
        enabled = trigger.enabled if change.enabled is None else change.enabled
        updated = await triggers.update_trigger(
            conn, trigger_id=trigger_id, enabled=enabled, schedule=spec
        )
        if trigger.type == "schedule":
            await scheduler.update(
                trigger_id=trigger_id,
                spec=spec,
                paused=not enabled,
                namespace=trigger.temporal_namespace,
            )
    return updated


async def delete_trigger(
    pool: Pool, scheduler: Scheduler, *, claims: Claims, trigger_id: uuid.UUID
) -> None:
    async with user_session(pool, claims) as conn:
        trigger = await triggers.get_trigger(conn, trigger_id)
        await triggers.delete_trigger(conn, trigger_id)
        if trigger.type == "schedule":
            await scheduler.delete(trigger_id=trigger_id, namespace=trigger.temporal_namespace)


async def delete_schedules(scheduler: Scheduler, schedule_ids: list[ScheduleRef]) -> None:
    """After a workflow (or its project) is deleted: its Temporal schedules go too. One
    left behind by a crash fires into nothing and is removed by its next action."""
    for ref in schedule_ids:
        await scheduler.delete(trigger_id=ref.trigger_id, namespace=ref.temporal_namespace)


async def run_trigger_now(
    pool: Pool, scheduler: Scheduler, *, claims: Claims, trigger_id: uuid.UUID
) -> Trigger:
    """Fire a schedule at once (its overlap policy applies)."""
    async with user_session(pool, claims) as conn:
        trigger = await triggers.get_trigger(conn, trigger_id)
    if trigger.type != "schedule":
        raise InvalidRequestError(
            "only a schedule can be run from here; call a webhook's URL to run it"
        )
    if not trigger.enabled:
        raise InvalidRequestError("this schedule is paused; resume it first")
    await scheduler.run_now(
        trigger_id=trigger_id, overlap=trigger.overlap, namespace=trigger.temporal_namespace
    )
    return trigger
