"""The counters behind GET /metrics: triggers count each start and each end once, by
project, status and origin, whatever writes the rows; workers by state read each
project's current registry row."""

from __future__ import annotations

import uuid

from psycopg.types.json import Jsonb

from runloom.db.pool import Pool
from runloom.db.session import service_session
from runloom.store import metrics
from tests.factory import Project, make_project, make_workflow


async def _counts(pool: Pool, project: Project) -> dict[tuple[str, str], int]:
    async with service_session(pool) as conn:
        rows = await metrics.run_counts(conn)
    return {(r.event, r.triggered_by): r.count for r in rows if r.project_id == project.id}


async def _insert(pool: Pool, project: Project, workflow_id: uuid.UUID, origin: str) -> uuid.UUID:
    execution_id = uuid.uuid4()
    async with service_session(pool) as conn:
        # Already closed: the session's live stack shares this database and would follow
        # an open row.
        await conn.execute(
            "INSERT INTO public.workflow_executions "
            "(id, workflow_id, project_id, created_by, status, triggered_by, input) "
            "VALUES (%s, %s, %s, %s, 'completed', %s, %s)",
            (execution_id, workflow_id, project.id, project.user_id, origin, Jsonb({})),
        )
    return execution_id


async def test_each_start_and_each_end_is_counted_once(pool: Pool) -> None:
    project = await make_project(pool)
    workflow_id = await make_workflow(pool, project, {"nodes": [], "edges": []})
    ids = [await _insert(pool, project, workflow_id, "manual") for _ in range(20)]
    ids.append(await _insert(pool, project, workflow_id, "webhook"))
    assert await _counts(pool, project) == {("started", "manual"): 20, ("started", "webhook"): 1}

    async with service_session(pool) as conn:
        # Rows made open again by hand, then ended: each open -> closed move counts.
        await conn.execute(
            "UPDATE public.workflow_executions SET status = 'running' WHERE id = ANY(%s)",
            (ids[:4],),
        )
        await conn.execute(
            "UPDATE public.workflow_executions SET status = 'failed' WHERE id = ANY(%s)",
            (ids[:3],),
        )
        await conn.execute(
            "UPDATE public.workflow_executions SET status = 'timed_out' WHERE id = %s", (ids[3],)
        )
        # Closed to closed is no end: not counted again.
        await conn.execute(
            "UPDATE public.workflow_executions SET status = 'cancelled' WHERE id = %s", (ids[0],)
        )
    counts = await _counts(pool, project)
    assert counts[("failed", "manual")] == 3
    assert counts[("timed_out", "manual")] == 1
    assert ("cancelled", "manual") not in counts
    assert counts[("started", "manual")] == 20


async def test_workers_by_state_reads_each_projects_latest_row(pool: Pool) -> None:
    async with service_session(pool) as conn:
        before = await metrics.worker_states(conn)
    rows = [("failed", {}), ("stopped", {"reason": "idle"}), ("stopped", {"reason": "x"})]
    for status, metadata in rows:
        project = await make_project(pool)
        async with service_session(pool) as conn:
            # An older row in another state: only the latest counts.
            for worker_status, meta, age_s in (("failed", {}, 10), (status, metadata, 0)):
                await conn.execute(
                    "INSERT INTO public.workflow_workers (worker_id, project_id, "
                    "task_queue_name, status, metadata, created_at) "
                    "VALUES (%s, %s, 'q', %s, %s, NOW() - make_interval(secs => %s))",
                    (f"w-{uuid.uuid4()}", project.id, worker_status, Jsonb(meta), age_s),
                )
    async with service_session(pool) as conn:
        after = await metrics.worker_states(conn)
    moved = {k: after.get(k, 0) - before.get(k, 0) for k in set(after) | set(before)}
    assert {k: v for k, v in moved.items() if v} == {"crashed": 1, "idle": 1, "stopped": 1}
