"""What a project's worker must serve, and the refusal to start one with nothing to serve.

A worker with an empty bundle dies at once (Temporal wants at least one workflow or
activity), so a project with no deployed workflow gets no worker, and no registry row:
:class:`~runloom.services.worker_requests.NothingDeployedError` says so instead.
"""

from __future__ import annotations

from uuid import UUID

from temporalio.client import Client

from runloom.db import service_session
from runloom.db.pool import Pool
from runloom.manager import temporal_queues
from runloom.manager.handles import WantedVersions
from runloom.manager.supervisor import WorkerStartError
from runloom.services.worker_requests import NothingDeployedError
from runloom.store import code

__all__ = ["load_bundle", "load_nonempty_bundle"]


async def load_bundle(
    pool: Pool, client: Client, wanted: WantedVersions, project_id: UUID, task_queue: str
) -> list[code.CodeBundleEntry]:
    """The project's stored code a worker must load: what the store names, plus the
    versions of runs Temporal reports open on the queue and those asked for."""
    open_types = await temporal_queues.open_workflow_types(client, task_queue)
    extra = sorted(open_types | wanted.of(project_id))
    async with service_session(pool) as conn:
        return await code.load_workflows_for_project(conn, project_id, extra_workflow_types=extra)


async def load_nonempty_bundle(
    pool: Pool, client: Client, wanted: WantedVersions, project_id: UUID, task_queue: str
) -> list[code.CodeBundleEntry]:
    """As :func:`load_bundle`; NothingDeployedError when there is nothing to serve,
    WorkerStartError when the store or Temporal cannot say."""
    try:
        bundle = await load_bundle(pool, client, wanted, project_id, task_queue)
    except Exception as exc:
        raise WorkerStartError(f"cannot load the code of project {project_id}: {exc}") from exc
    if not bundle:
        raise NothingDeployedError(project_id)
    return bundle
