"""Fair shares: what one user may hold at once, and the bounds compiled into their runs.

Counts are checked when something new is asked for, in the caller's transaction (a user
session, so RLS confines every count to the caller's own rows; the open runs a start
reads with its context, through ``public.open_run_count()``, for ``auth.uid()`` only).
A refusal raises :class:`~runloom.errors.QuotaExceededError` naming the quota and the
setting that sets it; the API answers 403. Rates (sign-ins, run starts per minute) are
not counted here but in :mod:`runloom.api.ratelimit`, which answers 429.

* projects (``RUNLOOM_QUOTA_PROJECTS``): exact; creations are serialised per user.
* workers (``RUNLOOM_QUOTA_WORKERS``): projects of the user with a worker starting or
  running, checked before the API asks a manager for one. The manager's own wake-ups
  (a backlog on an idle project's queue) do not go through this check.
* open runs (``RUNLOOM_QUOTA_OPEN_RUNS``): checked at each start without a lock, so that
  starts stay concurrent; simultaneous starts may pass it together, by at most their
  number.
* ``for_each`` items and output bytes per node: compiled into each version
  (:func:`run_bounds`) and enforced by ``runloom_runtime`` as the run goes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from runloom.compiler import RunBounds
from runloom.errors import QuotaExceededError
from runloom.services.counters import QUOTA_REFUSALS
from runloom.settings import Settings
from runloom.store import usage

__all__ = [
    "OPEN_RUNS",
    "PROJECTS",
    "WORKERS",
    "Quota",
    "check_new_project",
    "check_new_run",
    "check_new_worker",
    "run_bounds",
]

Conn = AsyncConnection[DictRow]


@dataclass(frozen=True, slots=True)
class Quota:
    """One quota: its name in errors, its setting, and how to say what it counts."""

    name: str
    setting: str
    holding: str  # "{n} projects", with the number filled in
    remedy: str

    def limit(self, settings: Settings) -> int:
        value: int = getattr(settings, self.setting.lower())
        return value

    def refuse(self, *, held: int, limit: int) -> QuotaExceededError:
        QUOTA_REFUSALS.labels(quota=self.name).inc()
        return QuotaExceededError(
            f"quota exceeded: you have {self.holding.format(n=held)}, and {limit} is the most "
            f"one user may have ({self.setting}={limit}); {self.remedy}, or ask the operator "
            f"to raise {self.setting}",
            quota=self.name,
            setting=self.setting,
            limit=limit,
        )


PROJECTS = Quota(
    name="projects",
    setting="RUNLOOM_QUOTA_PROJECTS",
    holding="{n} projects",
    remedy="delete a project you no longer need",
)
WORKERS = Quota(
    name="workers",
    setting="RUNLOOM_QUOTA_WORKERS",
    holding="{n} projects with a running worker",
    remedy="stop the worker of a project you are not using (idle workers also stop by themselves)",
)
OPEN_RUNS = Quota(
    name="open_runs",
    setting="RUNLOOM_QUOTA_OPEN_RUNS",
    holding="{n} runs that have not ended",
    remedy="wait for some to finish or cancel them",
)


def _user_id(value: uuid.UUID | str) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


async def check_new_project(conn: Conn, *, user_id: uuid.UUID, settings: Settings) -> None:
    """Room for one more project; holds a per-user lock until the caller's transaction
    ends, so the insert that follows in it is counted by any concurrent check."""
    limit = PROJECTS.limit(settings)
    await usage.lock_user(conn, user_id=user_id, purpose=PROJECTS.name)
    held = await usage.count_projects(conn, user_id=user_id)
    if held >= limit:
        raise PROJECTS.refuse(held=held, limit=limit)


def check_new_run(*, open_runs: int, settings: Settings) -> None:
    """Room for one more open run, given the user's open runs as the start read them
    (store.executions.start_context counts them, no further than the limit)."""
    limit = OPEN_RUNS.limit(settings)
    if open_runs >= limit:
        raise OPEN_RUNS.refuse(held=open_runs, limit=limit)


async def check_new_worker(
    conn: Conn, *, user_id: uuid.UUID | str, project_id: uuid.UUID, settings: Settings
) -> None:
    """Room for a worker for ``project_id``; always room if the project already has one."""
    limit = WORKERS.limit(settings)
    active = await usage.active_workers(conn, user_id=_user_id(user_id), project_id=project_id)
    if not active.this_project and active.others >= limit:
        raise WORKERS.refuse(held=active.others, limit=limit)


def run_bounds(settings: Settings) -> RunBounds:
    """The bounds :mod:`runloom.services.deploy` compiles into every new version."""
    return RunBounds(
        for_each_items=settings.runloom_quota_for_each_items,
        step_output_bytes=settings.runloom_quota_step_output_kb * 1024,
    )
