"""Schedule triggers on Temporal Schedules: checking a spec, describing it in words, and
keeping each trigger's Temporal schedule in step with its row.

Temporal fires the schedule; its action is runloom's small scheduled-run workflow on the
platform queue (runloom.manager.scheduled_run), which starts the run of whatever version
is active at that moment. So overlap, pause and catch-up are Temporal's, and a restarted
manager loses nothing: the action waits in Temporal for a manager to serve the queue.
"""

from __future__ import annotations

import math
import re
import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import cron_descriptor
from croniter import croniter
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleHandle,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.client import ScheduleIntervalSpec as TemporalInterval
from temporalio.client import ScheduleSpec as TemporalSpec
from temporalio.service import RPCError, RPCStatusCode

from runloom import naming
from runloom.errors import InvalidRequestError
from runloom.models import Overlap
from runloom.services.namespaces import client_for
from runloom.store.triggers import ScheduleSpec

__all__ = ["ScheduleDescription", "Scheduler", "check_spec", "describe_spec"]

_OVERLAP: dict[Overlap, ScheduleOverlapPolicy] = {
    "skip": ScheduleOverlapPolicy.SKIP,
    "buffer_one": ScheduleOverlapPolicy.BUFFER_ONE,
    "allow_all": ScheduleOverlapPolicy.ALLOW_ALL,
}
# Five fields, as most people write cron (minute hour day-of-month month day-of-week):
# croniter and Temporal agree on these, and the description and preview are exact.
_CRON_FIELDS = 5
_CRON_CHARS = re.compile(r"^[0-9A-Za-z*/,\-? ]+$")
NEXT_RUNS = 5


@dataclass(frozen=True, slots=True)
class ScheduleDescription:
    description: str
    next_runs: list[datetime]


def check_spec(*, cron: str | None, interval_s: int | None, timezone: str) -> None:
    """InvalidRequestError saying what to fix in a schedule's timing."""
    if (cron is None) == (interval_s is None):
        raise InvalidRequestError("give a schedule either `cron` or `interval_s`, not both")
    if cron is not None:
        fields = cron.split()
        if len(fields) != _CRON_FIELDS or not _CRON_CHARS.match(cron):
            raise InvalidRequestError(
                f"cron {cron!r} must have five fields: minute hour day-of-month month "
                "day-of-week, e.g. '*/5 * * * *' for every five minutes"
            )
        if not croniter.is_valid(cron):
            raise InvalidRequestError(
                f"cron {cron!r} is not a valid expression: check each field's range "
                "(minute 0-59, hour 0-23, day 1-31, month 1-12, weekday 0-6)"
            )
    if interval_s is not None and interval_s < 1:
        raise InvalidRequestError("interval_s must be at least 1 second")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidRequestError(
            f"timezone {timezone!r} is not an IANA time zone name such as 'Europe/Berlin' or 'UTC'"
        ) from exc


def describe_spec(
    *, cron: str | None, interval_s: int | None, timezone: str, now: datetime | None = None
) -> ScheduleDescription:
    """The timing in words and its next fire times (checked first)."""
    check_spec(cron=cron, interval_s=interval_s, timezone=timezone)
    zone = zoneinfo.ZoneInfo(timezone)
    now = (now or datetime.now(UTC)).astimezone(zone)
    if cron is not None:
        words = cron_descriptor.get_description(cron)
        it = croniter(cron, now)
        times = [it.get_next(datetime) for _ in range(NEXT_RUNS)]
        return ScheduleDescription(f"{words} ({timezone})", times)
    assert interval_s is not None
    # Temporal counts intervals from the Unix epoch.
    first = math.floor(now.timestamp() / interval_s + 1) * interval_s
    times = [datetime.fromtimestamp(first + i * interval_s, tz=zone) for i in range(NEXT_RUNS)]
    return ScheduleDescription(_every(interval_s), times)


def _every(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return f"Every {unit}" if count == 1 else f"Every {count} {unit}s"
    return "Every second" if seconds == 1 else f"Every {seconds} seconds"


class Scheduler:
    """Each schedule trigger's Temporal schedule, whose action runs on ``platform_queue``
    (this installation's, see runloom.naming.platform_task_queue).

    A schedule lives in its project's namespace (``namespace``; None: the shared one), and
    so does its action: a child workflow runs in its parent's namespace, and the managers
    serve the platform queue in every namespace with schedules
    (runloom.manager.scheduled_activities)."""

    def __init__(self, client: Client, *, platform_queue: str) -> None:
        self.client = client
        self.platform_queue = platform_queue

    def _schedule(self, trigger_id: uuid.UUID, spec: ScheduleSpec, *, paused: bool) -> Schedule:
        timing = (
            TemporalSpec(cron_expressions=[spec.cron], time_zone_name=spec.timezone)
            if spec.cron is not None
            else TemporalSpec(
                intervals=[TemporalInterval(every=timedelta(seconds=spec.interval_s or 0))],
                time_zone_name=spec.timezone,
            )
        )
        return Schedule(
            action=ScheduleActionStartWorkflow(
                naming.SCHEDULED_RUN_WORKFLOW,
                str(trigger_id),
                id=naming.scheduled_run_workflow_id(trigger_id),
                task_queue=self.platform_queue,
            ),
            spec=timing,
            policy=SchedulePolicy(overlap=_OVERLAP[spec.overlap]),
            state=ScheduleState(paused=paused, note="managed by runloom: change it there"),
        )

    def _handle(self, trigger_id: uuid.UUID, namespace: str | None) -> ScheduleHandle:
        client = client_for(self.client, namespace)
        return client.get_schedule_handle(naming.schedule_id(trigger_id))

    async def create(
        self,
        *,
        trigger_id: uuid.UUID,
        spec: ScheduleSpec,
        paused: bool = False,
        namespace: str | None = None,
    ) -> None:
        await client_for(self.client, namespace).create_schedule(
            naming.schedule_id(trigger_id), self._schedule(trigger_id, spec, paused=paused)
        )

    async def update(
        self,
        *,
        trigger_id: uuid.UUID,
        spec: ScheduleSpec,
        paused: bool,
        namespace: str | None = None,
    ) -> None:
        new = self._schedule(trigger_id, spec, paused=paused)

        def updater(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=new)

        await self._handle(trigger_id, namespace).update(updater)

    async def delete(self, *, trigger_id: uuid.UUID, namespace: str | None = None) -> None:
        """Gone already counts as deleted."""
        try:
            await self._handle(trigger_id, namespace).delete()
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise

    async def run_now(
        self, *, trigger_id: uuid.UUID, overlap: Overlap, namespace: str | None = None
    ) -> None:
        await self._handle(trigger_id, namespace).trigger(overlap=_OVERLAP[overlap])

    async def next_runs(
        self, *, trigger_id: uuid.UUID, namespace: str | None = None
    ) -> list[datetime]:
        """Temporal's own next fire times (none while paused)."""
        described = await self._handle(trigger_id, namespace).describe()
        if described.schedule.state.paused:
            return []
        return list(described.info.next_action_times[:NEXT_RUNS])
