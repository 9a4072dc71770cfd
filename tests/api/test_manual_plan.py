"""The seed's manual testing plan, automated over HTTP against the running stack."""

from __future__ import annotations

from temporalio.client import Client

from tests.api.conftest import Api, SignUp
from tests.api.graphs import transform_graph
from tests.api.helpers import new_project, new_workflow, wait_for_end


async def _walk_the_plan(api: Api, temporal_client: Client, *, name: str, n: int) -> None:
    # 1. Create a project: its task queue is {user_id}-{project_id}.
    project = await new_project(api, name)
    assert project["task_queue_name"] == f"{api.user_id}-{project['id']}"
    # 2. Create a workflow in that project.
    workflow_id = await new_workflow(api, project["id"], transform_graph(multiplier=3))
    # 3-4. Build it: compile, store, worker, start.
    build = await api.ok(
        "POST", f"/api/workflows/{workflow_id}/build", 201, json={"input": {"n": n}}
    )
    assert build["version"] == 1
    assert build["temporal_ui_url"].endswith(
        f"/workflows/{build['temporal_workflow_id']}/{build['temporal_run_id']}/history"
    )
    execution = await wait_for_end(api, build["execution_id"])
    assert execution["status"] == "completed", execution
    assert execution["output"] == {"result": n * 3 + 1}
    assert execution["duration_ms"] is not None and execution["finished_at"] is not None
    assert {s["status"] for s in execution["node_states"].values()} == {"completed"}
    # 5. The run is in Temporal, on the project's task queue.
    described = await temporal_client.get_workflow_handle(
        build["temporal_workflow_id"], run_id=build["temporal_run_id"]
    ).describe()
    assert described.task_queue == project["task_queue_name"]
    assert described.workflow_type == build["workflow_type"]
    # 6. Statistics were recorded.
    stats = await api.ok("GET", f"/api/projects/{project['id']}/stats")
    assert stats["project"]["total_workflow_executions"] == 1
    assert stats["workflows"][0]["execution_count"] == 1
    names = {a["activity_name"] for a in stats["activities"]}
    assert names == {f"{build['workflow_type'].split('@')[0]}.shape"}
    assert stats["activities"][0]["success_count"] == 1
    detail = await api.ok("GET", f"/api/projects/{project['id']}")
    assert detail["project"]["workflow_count"] == 1
    assert detail["project"]["workers"][0]["status"] == "running"


async def test_the_manual_plan_in_two_independent_projects(
    sign_up: SignUp, temporal_client: Client
) -> None:
    api = await sign_up()
    await _walk_the_plan(api, temporal_client, name="first", n=4)
    # 7. A second project does the same, independently.
    await _walk_the_plan(api, temporal_client, name="second", n=10)
    projects = (await api.ok("GET", "/api/projects"))["projects"]
    queues = {p["task_queue_name"] for p in projects}
    assert len(queues) == len(projects) == 3  # Default, first, second
