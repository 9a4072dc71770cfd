"""Each version keeps the graph it was compiled from: `GET …/versions/{n}/graph`, and a
rollback (`POST …/versions/{n}/activate`) puts that graph back as the workflow's draft."""

from __future__ import annotations

import copy
import uuid
from typing import Any

from runloom.compiler import compile_workflow
from runloom.db.pool import Pool
from runloom.db.session import service_session
from runloom.store import code
from tests.api.conftest import Api, SignUp
from tests.api.helpers import new_project, new_workflow
from tests.factory import chain


def _transform(node_id: str, output: str) -> dict[str, Any]:
    return {"id": node_id, "type": "transform", "config": {"output": output}}


async def _deploy(api: Api, wid: str, graph: dict[str, Any]) -> dict[str, Any]:
    await api.ok("PUT", f"/api/workflows/{wid}", json={"graph": graph})
    deployed: dict[str, Any] = await api.ok("POST", f"/api/workflows/{wid}/deploy", 201)
    return deployed


async def test_versions_keep_their_graph_and_rollback_restores_it(sign_up: SignUp) -> None:
    api = await sign_up()
    project = await new_project(api, "graphs")
    g1 = chain(_transform("shape", "one"), output="{{ steps.shape }}")
    wid = await new_workflow(api, project["id"], g1)
    assert (await _deploy(api, wid, g1))["version"] == 1

    g2 = chain(_transform("shape", "two"), _transform("extra", "x"), output="{{ steps.extra }}")
    assert (await _deploy(api, wid, g2))["version"] == 2
    # Only positions moved: the code is the same, v2 is reused and keeps the graph it had.
    moved = copy.deepcopy(g2)
    moved["nodes"][1]["position"] = {"x": 500, "y": 40}
    reused = await _deploy(api, wid, moved)
    assert (reused["version"], reused["created"]) == (2, False)

    assert (await api.ok("GET", f"/api/workflows/{wid}/versions/1/graph")) == {
        "version": 1,
        "graph": g1,
    }
    assert (await api.ok("GET", f"/api/workflows/{wid}/versions/2/graph"))["graph"] == g2
    # The list stays light: no version's graph in it.
    listed = (await api.ok("GET", f"/api/workflows/{wid}/versions"))["versions"]
    assert [v["version"] for v in listed] == [2, 1]
    assert all("graph" not in v for v in listed)

    # Rollback: v1 is active and the draft is v1's graph (the v2-only node is gone).
    await api.ok("POST", f"/api/workflows/{wid}/versions/1/activate")
    workflow = (await api.ok("GET", f"/api/workflows/{wid}"))["workflow"]
    assert (workflow["version"], workflow["graph"]) == (1, g1)
    # Building the restored draft reuses v1 rather than spending a number.
    again = await api.ok("POST", f"/api/workflows/{wid}/deploy", 201)
    assert (again["version"], again["created"]) == (1, False)


async def test_a_version_graph_is_only_for_its_owner(sign_up: SignUp) -> None:
    api, other = await sign_up(), await sign_up()
    project = await new_project(api, "mine")
    wid = await new_workflow(api, project["id"], chain())
    await api.ok("POST", f"/api/workflows/{wid}/deploy", 201)
    assert (await other.client.get(f"/api/workflows/{wid}/versions/1/graph")).status_code == 404
    assert (await api.client.get(f"/api/workflows/{wid}/versions/7/graph")).status_code == 404


async def test_versions_from_before_have_no_graph_and_rollback_keeps_the_draft(
    sign_up: SignUp, pool: Pool
) -> None:
    api = await sign_up()
    project = await new_project(api, "old")
    draft = chain(_transform("now", "draft"))
    wid = await new_workflow(api, project["id"], draft)
    async with service_session(pool) as conn:  # as a version stored before the migration
        for version in (1, 2):
            await code.store_compiled_code(
                conn,
                workflow_id=uuid.UUID(wid),
                compiled=compile_workflow(
                    chain(output=version), workflow_key="wf", version=version
                ),
                compiled_by=None,
            )
    assert (await api.ok("GET", f"/api/workflows/{wid}/versions/1/graph"))["graph"] is None
    await api.ok("POST", f"/api/workflows/{wid}/versions/1/activate")
    workflow = (await api.ok("GET", f"/api/workflows/{wid}"))["workflow"]
    assert (workflow["version"], workflow["graph"]) == (1, draft)
