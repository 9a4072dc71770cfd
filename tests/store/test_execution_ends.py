"""A run's end in one statement: the row, the live notice and the statistics, exactly once,
and several ends in one pipelined transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from runloom import naming
from runloom.db.pool import Pool
from runloom.db.session import service_session
from runloom.store.executions import RunEnd, record_end, record_ends
from runloom.store.stats import ActivityRun
from tests.factory import Project, make_project, make_workflow

T0 = datetime(2026, 11, 1, tzinfo=UTC)


async def _open_run(pool: Pool, project: Project, workflow_id: uuid.UUID) -> uuid.UUID:
    # No Temporal workflow id: a tracker sharing this database leaves it alone.
    execution_id = uuid.uuid4()
    async with service_session(pool) as conn:
        await conn.execute(
            "INSERT INTO public.workflow_executions "
            "(id, workflow_id, project_id, status, code_version, created_by) "
            "VALUES (%s, %s, %s, 'running', '1', %s)",
            (execution_id, workflow_id, project.id, project.user_id),
        )
    return execution_id


def _end(execution_id: uuid.UUID, *, counted: bool = True, steps: int = 0) -> RunEnd:
    return RunEnd(
        execution_id=execution_id,
        status="completed",
        output={"result": 3},
        error=None,
        node_states={"end": "completed"},
        started_at=T0,
        finished_at=T0 + timedelta(milliseconds=1500),
        live_payload=f"payload-{execution_id}",
        counted=counted,
        activities=[
            ActivityRun("score", duration_ms=20, success=i % 2 == 0, finished_at=T0)
            for i in range(steps)
        ],
    )


async def test_ends_recorded_together_count_once_and_only_for_runloom_runs(
    pool: Pool, database_url: str
) -> None:
    project = await make_project(pool)
    workflow_id = await make_workflow(pool, project, {"nodes": [], "edges": []})
    mine, foreign = (
        await _open_run(pool, project, workflow_id),
        await _open_run(pool, project, workflow_id),
    )
    async with service_session(pool) as conn:
        await conn.execute(
            "INSERT INTO public.workflow_compiled_code (workflow_id, version, workflow_code, "
            "activities_code, worker_code, requirements_txt, compiler_options_json) "
            "VALUES (%s, '1', '', '', '', '', '{}')",
            (workflow_id,),
        )
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as listener:
        await listener.execute(f"LISTEN {naming.EXECUTION_CHANGED_CHANNEL}")
        async with service_session(pool, pipeline=True) as conn:
            first = await record_ends(conn, [_end(mine, steps=2), _end(foreign, counted=False)])
        notices = [n.payload async for n in listener.notifies(timeout=5, stop_after=2)]
    assert [f.id if f else None for f in first] == [mine, foreign]
    assert sorted(notices) == sorted([f"payload-{mine}", f"payload-{foreign}"])
    async with service_session(pool) as conn:
        assert await record_end(conn, _end(mine, steps=2)) is None  # recorded already
        run = await (
            await conn.execute(
                "SELECT status, output, duration_ms, node_states FROM workflow_executions "
                "WHERE id = %s",
                (mine,),
            )
        ).fetchone()
        figures = await (
            await conn.execute(
                "SELECT total_workflow_executions, total_activity_executions "
                "FROM projects WHERE id = %s",
                (project.id,),
            )
        ).fetchone()
        version = await (
            await conn.execute(
                "SELECT execution_count, error_count, avg_execution_duration_ms "
                "FROM workflow_compiled_code WHERE workflow_id = %s",
                (workflow_id,),
            )
        ).fetchone()
        steps = await (
            await conn.execute(
                "SELECT execution_count, success_count, failure_count FROM activity_statistics "
                "WHERE project_id = %s AND activity_name = 'score'",
                (project.id,),
            )
        ).fetchone()
    assert run == {
        "status": "completed",
        "output": {"result": 3},
        "duration_ms": 1500,
        "node_states": {"end": "completed"},
    }
    # The foreign run is closed but not counted; the other counted once, with its steps.
    assert figures == {"total_workflow_executions": 1, "total_activity_executions": 2}
    assert version == {"execution_count": 1, "error_count": 0, "avg_execution_duration_ms": 1500}
    assert steps == {"execution_count": 2, "success_count": 1, "failure_count": 1}
