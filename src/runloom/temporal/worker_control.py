"""What the API asks of the worker managers, over Postgres ``NOTIFY runloom_workers``.

Every manager LISTENs; for ``ensure`` any of them may claim the project (the registry's
unique index picks one), the others are for the owner. Replies come through the registry:
:func:`request_worker` waits until the project's ``running`` row lists the workflow type
it needs in ``metadata.loaded``. The caller has already checked that the user may act on
the project; these functions do not (they use the service role).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from uuid import UUID

from runloom.db import service_session, sql
from runloom.db.pool import Pool
from runloom.errors import RunloomError

__all__ = [
    "CONTROL_CHANNEL",
    "WorkerUnavailableError",
    "request_restart",
    "request_stop",
    "request_worker",
]

CONTROL_CHANNEL = "runloom_workers"
# A manager that was (re)connecting when the first NOTIFY went out hears the next one.
_RENOTIFY_S = 2.0
_POLL_S = 0.1


class WorkerUnavailableError(RunloomError):
    """No worker serving the requested code came up in time."""


async def _notify(pool: Pool, message: dict[str, Any]) -> None:
    async with pool.connection() as conn:
        await conn.execute(
            "SELECT pg_notify(%s, %s)", (CONTROL_CHANNEL, json.dumps(message, default=str))
        )


async def request_worker(
    pool: Pool,
    *,
    project_id: UUID,
    workflow_type: str | None = None,
    timeout_s: float = 15.0,
) -> str:
    """Have a running worker for the project that serves ``workflow_type`` (``key@vN``;
    any if None), starting or reloading one as needed; return its worker id.

    Raises WorkerUnavailableError after ``timeout_s``, saying what the registry last
    showed.
    """
    message = {"action": "ensure", "project_id": str(project_id), "workflow_type": workflow_type}
    deadline = time.monotonic() + timeout_s
    # The hot path: a worker already serves it, so no manager needs to hear about it.
    next_notify = time.monotonic() + _POLL_S / 2
    while True:
        now = time.monotonic()
        if now >= next_notify:
            await _notify(pool, message)
            next_notify = now + _RENOTIFY_S
        async with service_session(pool) as conn:
            cur = await conn.execute(
                sql("registry_ready"), {"project_id": project_id, "workflow_type": workflow_type}
            )
            ready = await cur.fetchone()
            if ready is not None:
                return str(ready["worker_id"])
            if time.monotonic() >= deadline:
                cur = await conn.execute(sql("registry_latest"), {"project_id": project_id})
                latest = await cur.fetchone()
                break
        await asyncio.sleep(_POLL_S)
    what = f"serving {workflow_type}" if workflow_type else "running"
    if latest is None:
        detail = (
            "no manager has picked the project up; is `runloom manager` (or `runloom up`) running?"
        )
    else:
        metadata = latest["metadata"] or {}
        detail = f"its latest worker is {latest['status']}"
        if metadata.get("error"):
            detail += f": {metadata['error']}"
        elif metadata.get("reason"):
            detail += f" ({metadata['reason']})"
    raise WorkerUnavailableError(
        f"no worker {what} for project {project_id} within {timeout_s:g} s; {detail}"
    )


async def request_stop(pool: Pool, *, project_id: UUID) -> None:
    """Ask the owning manager to stop the project's worker (returns at once)."""
    await _notify(pool, {"action": "stop", "project_id": str(project_id)})


async def request_restart(pool: Pool, *, project_id: UUID) -> None:
    """Ask for a fresh worker process (also lifts a crash-loop stop); returns at once."""
    await _notify(pool, {"action": "restart", "project_id": str(project_id)})
