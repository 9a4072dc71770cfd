"""Ends that arrive together are written together; each caller gets its own answer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from runloom.db.pool import Pool
from runloom.manager import end_recorder
from runloom.manager.end_recorder import EndRecorder
from runloom.store import executions
from runloom.store.executions import FinishedRun, RunEnd
from tests.factory import make_project, make_workflow
from tests.store.test_execution_ends import _end, _open_run


async def test_ends_arriving_together_share_one_transaction(
    pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = await make_project(pool)
    workflow_id = await make_workflow(pool, project, {"nodes": [], "edges": []})
    ids = [await _open_run(pool, project, workflow_id) for _ in range(5)]
    batches: list[int] = []
    real = executions.record_ends

    async def spy(conn: executions.Conn, ends: Sequence[RunEnd]) -> list[FinishedRun | None]:
        batches.append(len(ends))
        return await real(conn, ends)

    monkeypatch.setattr(end_recorder.executions, "record_ends", spy)
    recorder = EndRecorder(pool=pool)
    first = await asyncio.gather(*(recorder.record(_end(i)) for i in ids))
    assert [f.id if f else None for f in first] == ids
    assert batches == [5]
    again = await asyncio.gather(*(recorder.record(_end(i)) for i in ids[:2]))
    assert again == [None, None]  # recorded already: nobody counts them twice


async def test_a_failed_batch_fails_each_of_its_callers(
    pool: Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(conn: executions.Conn, ends: Sequence[RunEnd]) -> list[FinishedRun | None]:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(end_recorder.executions, "record_ends", broken)
    recorder = EndRecorder(pool=pool)
    project = await make_project(pool)
    workflow_id = await make_workflow(pool, project, {"nodes": [], "edges": []})
    ids = [await _open_run(pool, project, workflow_id) for _ in range(2)]
    results = await asyncio.gather(*(recorder.record(_end(i)) for i in ids), return_exceptions=True)
    assert [str(r) for r in results] == ["the database went away"] * 2
