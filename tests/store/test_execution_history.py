"""Run history: keyset pages return every run exactly once, in order, even where many runs
share a start time; filters and counts agree; search text is matched literally."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from psycopg.types.json import Jsonb

from runloom.auth import key_claims
from runloom.db.pool import Pool
from runloom.db.session import service_session, user_session
from runloom.store.executions import CursorError, HistoryFilter, count_executions, list_executions
from tests.factory import Project, make_project, make_workflow

T0 = datetime(2026, 11, 1, tzinfo=UTC)
# Closed runs only: the live stack's tracker shares this database and follows open ones.
STATUSES = ["completed", "failed", "completed", "cancelled"]
ORIGINS = ["manual", "api", "manual"]


async def _history(pool: Pool, runs: int) -> tuple[Project, uuid.UUID, list[uuid.UUID]]:
    project = await make_project(pool)
    workflow_id = await make_workflow(pool, project, {"nodes": [], "edges": []})
    ids = [uuid.uuid4() for _ in range(runs)]
    rows = [
        (
            execution_id,
            workflow_id,
            project.id,
            project.user_id,
            STATUSES[i % len(STATUSES)],
            ORIGINS[i % len(ORIGINS)],
            # Four runs per second: ties that only the id breaks.
            T0 + timedelta(seconds=i // 4),
            Jsonb({"order": i, "note": "50%_off" if i % 100 == 7 else "5000 off"}),
            "boom" if i % 50 == 0 else None,
        )
        for i, execution_id in enumerate(ids)
    ]
    async with service_session(pool) as conn, conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO public.workflow_executions (id, workflow_id, project_id, created_by, "
            "status, triggered_by, created_at, input, error) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
    return project, workflow_id, ids


def _claims(project: Project) -> dict[str, object]:
    return key_claims(user_id=project.user_id, email=None, project_id=None)


async def test_paging_through_1200_runs_returns_each_exactly_once(pool: Pool) -> None:
    project, workflow_id, ids = await _history(pool, 1200)
    seen: list[uuid.UUID] = []
    keys: list[tuple[datetime, uuid.UUID]] = []
    cursor: str | None = None
    pages = 0
    async with user_session(pool, _claims(project)) as conn:
        for pages in itertools.count(1):  # noqa: B007 - counted after the loop
            page = await list_executions(
                conn, where=HistoryFilter(workflow_id=workflow_id), limit=97, cursor=cursor
            )
            seen += [e.id for e in page.executions]
            keys += [(e.created_at, e.id) for e in page.executions]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert len(seen) == 1200 and set(seen) == set(ids)
    assert keys == sorted(keys, reverse=True)
    assert pages == 13  # 12 full pages of 97 and one of 36


async def test_filters_and_counts_agree(pool: Pool) -> None:
    project, workflow_id, _ = await _history(pool, 400)
    async with user_session(pool, _claims(project)) as conn:
        everything = HistoryFilter(workflow_id=workflow_id)
        counts = await count_executions(conn, where=everything)
        assert counts == {"completed": 200, "failed": 100, "cancelled": 100}

        failed = HistoryFilter(workflow_id=workflow_id, status="failed")
        page = await list_executions(conn, where=failed, limit=500)
        assert len(page.executions) == 100 and {e.status for e in page.executions} == {"failed"}

        by_api = HistoryFilter(workflow_id=workflow_id, triggered_by="api")
        assert sum((await count_executions(conn, where=by_api)).values()) == 133

        window = HistoryFilter(
            workflow_id=workflow_id,
            since=T0 + timedelta(seconds=10),
            until=T0 + timedelta(seconds=20),
        )
        runs = (await list_executions(conn, where=window, limit=500)).executions
        assert len(runs) == 40
        assert all(
            T0 + timedelta(seconds=10) <= e.created_at < T0 + timedelta(seconds=20) for e in runs
        )

        # % and _ are the user's text, not wildcards: "50%_off" matches 4 runs, not "5000 off".
        literal = HistoryFilter(workflow_id=workflow_id, text="50%_off")
        assert len((await list_executions(conn, where=literal, limit=500)).executions) == 4
        in_error = HistoryFilter(workflow_id=workflow_id, text="BOOM")
        assert len((await list_executions(conn, where=in_error, limit=500)).executions) == 8


async def test_another_user_pages_through_nothing_of_mine(pool: Pool) -> None:
    mine, _, _ = await _history(pool, 20)
    stranger = await make_project(pool)
    async with user_session(pool, _claims(stranger)) as conn:
        page = await list_executions(conn, where=HistoryFilter(project_id=mine.id), limit=50)
        assert page.executions == [] and page.next_cursor is None


async def test_a_forged_cursor_is_refused_with_what_to_do(pool: Pool) -> None:
    project = await make_project(pool)
    async with user_session(pool, _claims(project)) as conn:
        for forged in ("not-a-cursor", "bm9wZQ", "MjAyNnxub3QtYS11dWlk"):
            with pytest.raises(CursorError, match="next_cursor"):
                await list_executions(conn, where=HistoryFilter(), limit=5, cursor=forged)
