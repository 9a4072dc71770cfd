"""What the API asks of the worker managers, over Postgres ``NOTIFY`` on
:data:`runloom.naming.CONTROL_CHANNEL`.

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
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from runloom.db import service_session
from runloom.db.pool import Pool
from runloom.errors import ConflictError, RunloomError
from runloom.naming import CONTROL_CHANNEL
from runloom.store import registry

__all__ = [
    "ControlRequest",
    "NothingDeployedError",
    "WorkerUnavailableError",
    "request_restart",
    "request_stop",
    "request_worker",
    "require_deployed",
]

# A manager that was (re)connecting when the first NOTIFY went out hears the next one.
_RENOTIFY_S = 2.0
_POLL_S = 0.1
# Polled this often for the first second (a worker starts or reloads within it), then _POLL_S.
_FAST_POLL_S = 0.02
_FAST_POLL_FOR_S = 1.0


class WorkerUnavailableError(RunloomError):
    """No worker serving the requested code came up in time."""


class NothingDeployedError(ConflictError):
    """The project has no deployed workflow, so there is nothing for a worker to serve."""

    def __init__(self, project_id: UUID) -> None:
        super().__init__(
            f"no workflow deployed yet: project {project_id} has no worker until one of its "
            "workflows is built or deployed"
        )
        self.project_id = project_id


def require_deployed(project_id: UUID, *, deployed_workflows: int) -> None:
    """Refuse a start of a project's worker while no workflow of it is deployed."""
    if deployed_workflows < 1:
        raise NothingDeployedError(project_id)


@dataclass(frozen=True, slots=True)
class ControlRequest:
    """One NOTIFY payload: what a manager is asked to do for a project.

    ``ensure`` starts the project's worker, or reloads it with the project's current code
    and, when ``workflow_type`` names one, that version too (a start of an older version).
    """

    action: Literal["ensure", "stop", "restart"]
    project_id: UUID
    workflow_type: str | None = None

    def encode(self) -> str:
        document = {"action": self.action, "project_id": str(self.project_id)}
        if self.workflow_type is not None:
            document["workflow_type"] = self.workflow_type
        return json.dumps(document)

    @classmethod
    def decode(cls, payload: str) -> ControlRequest:
        """ValueError (or KeyError) for a payload no runloom API sent."""
        document = json.loads(payload)
        action = document["action"]
        if action not in ("ensure", "stop", "restart"):
            raise ValueError(f"unknown worker request action {action!r}")
        workflow_type = document.get("workflow_type")
        if workflow_type is not None and not isinstance(workflow_type, str):
            raise ValueError("workflow_type must be a string")
        return cls(
            action=action,
            project_id=UUID(str(document["project_id"])),
            workflow_type=workflow_type,
        )


async def _notify(pool: Pool, request: ControlRequest) -> None:
    async with pool.connection() as conn:
        await conn.execute("SELECT pg_notify(%s, %s)", (CONTROL_CHANNEL, request.encode()))


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
    request = ControlRequest(action="ensure", project_id=project_id, workflow_type=workflow_type)
    began = time.monotonic()
    deadline = began + timeout_s
    # The hot path: a worker already serves it, so no manager needs to hear about it; else
    # the manager hears at once, and a forked worker or a reload is ready in tens of ms.
    next_notify = began
    checked = False
    while True:
        now = time.monotonic()
        if checked and now >= next_notify:
            await _notify(pool, request)
            next_notify = now + _RENOTIFY_S
        async with service_session(pool) as conn:
            ready = await registry.ready_worker_id(
                conn, project_id=project_id, workflow_type=workflow_type
            )
            if ready is not None:
                return ready
            if time.monotonic() >= deadline:
                latest = await registry.latest_worker(conn, project_id)
                break
        if checked:
            fast = time.monotonic() - began < _FAST_POLL_FOR_S
            await asyncio.sleep(_FAST_POLL_S if fast else _POLL_S)
        checked = True
    raise WorkerUnavailableError(_unavailable(project_id, workflow_type, timeout_s, latest))


def _unavailable(
    project_id: UUID,
    workflow_type: str | None,
    timeout_s: float,
    latest: registry.LatestWorker | None,
) -> str:
    what = f"serving {workflow_type}" if workflow_type else "running"
    if latest is None:
        detail = (
            "no manager has picked the project up; is `runloom manager` (or `runloom up`) running?"
        )
    else:
        detail = f"its latest worker is {latest.status}"
        if latest.metadata.get("error"):
            detail += f": {latest.metadata['error']}"
        elif latest.metadata.get("reason"):
            detail += f" ({latest.metadata['reason']})"
    return f"no worker {what} for project {project_id} within {timeout_s:g} s; {detail}"


async def request_stop(pool: Pool, *, project_id: UUID) -> None:
    """Ask the owning manager to stop the project's worker (returns at once)."""
    await _notify(pool, ControlRequest(action="stop", project_id=project_id))


async def request_restart(pool: Pool, *, project_id: UUID) -> None:
    """Ask for a fresh worker process (also lifts a crash-loop stop); returns at once."""
    await _notify(pool, ControlRequest(action="restart", project_id=project_id))
