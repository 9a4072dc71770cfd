"""The tracker records a run's end only when the Temporal run is the one runloom started
for the row: its memo must name the execution its workflow id was made for."""

from __future__ import annotations

import uuid

from psycopg.types.json import Jsonb
from temporalio.client import Client

from runloom import naming
from runloom.auth import key_claims
from runloom.db.pool import Pool
from runloom.db.session import user_session
from tests.api.conftest import SignUp
from tests.api.graphs import transform_graph
from tests.api.helpers import new_project, new_workflow, wait_for_end


async def test_a_run_whose_memo_names_another_execution_is_not_recorded(
    sign_up: SignUp, pool: Pool, temporal_client: Client
) -> None:
    api = await sign_up()
    project = await new_project(api, "forged")
    wid = await new_workflow(api, project["id"], transform_graph(2))
    build = await api.ok("POST", f"/api/workflows/{wid}/build", 201, json={"input": {"n": 1}})
    await wait_for_end(api, build["execution_id"])
    key = (await api.ok("GET", f"/api/workflows/{wid}"))["workflow"]["key"]
    queue = project["task_queue_name"]
    # Anyone who reaches Temporal can start a run under the name runloom would give a row,
    # but not with the memo runloom writes for it.
    execution_id = uuid.uuid4()
    temporal_id = naming.temporal_workflow_id(key=key, execution_id=execution_id)
    handle = await temporal_client.start_workflow(
        naming.workflow_type(key, 1),
        {"n": 1},
        id=temporal_id,
        task_queue=queue,
        memo={naming.MEMO_EXECUTION_ID: str(uuid.uuid4())},
    )
    claims = key_claims(user_id=uuid.UUID(api.user_id), email=None, project_id=None)
    async with user_session(pool, claims) as conn:
        await conn.execute(
            "SELECT * FROM public.record_execution_start(%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                execution_id,
                uuid.UUID(wid),
                uuid.UUID(project["id"]),
                Jsonb({"n": 1}),
                temporal_id,
                handle.first_execution_run_id,
                "1",
                naming.workflow_type(key, 1),
                queue,
            ),
        )
    assert await handle.result() == {"result": 3}  # the run itself completed in Temporal
    recorded = await wait_for_end(api, str(execution_id))
    assert recorded["status"] == "failed" and recorded["output"] is None
    assert "not started by runloom for this execution" in recorded["error"]
