"""A project with nothing deployed has no worker: the manager never spawns one (which
would die at once, "At least one activity ... must be specified") nor crash-loops."""

from __future__ import annotations

import asyncio

import pytest

from runloom.db.pool import Pool
from runloom.manager import loops
from runloom.services.worker_requests import ControlRequest, NothingDeployedError
from tests.factory import make_project, make_workflow

from .conftest import MakeManager, worker_rows

pytestmark = pytest.mark.timeout(60)

GRAPH = {
    "nodes": [{"id": "start", "type": "start"}, {"id": "end", "type": "end"}],
    "edges": [{"source": "start", "target": "end"}],
}


async def test_a_start_of_a_project_with_nothing_deployed_claims_nothing(
    pool: Pool, make_manager: MakeManager
) -> None:
    project = await make_project(pool)
    await make_workflow(pool, project, GRAPH, key="draft")  # saved, never built
    manager = await make_manager()

    with pytest.raises(NothingDeployedError, match="no workflow deployed yet"):
        await manager.start_worker_for_project(project.id)
    # What the API's requests and the backlog wake-up go through: refused, and no row.
    with pytest.raises(NothingDeployedError):
        await loops.handle_request(manager, ControlRequest(action="ensure", project_id=project.id))
    await manager.start_quietly(project.id)
    await asyncio.sleep(1.0)
    assert await worker_rows(pool, project.id) == []
    assert project.id not in manager.handles
