"""Stale takeover after a database outage (found by `make chaos`).

When Postgres was away for more than three heartbeats, every worker row looked stale at
once: the first manager back failed them all, its own live workers included, then found it
had "lost ownership" of each and stopped them, so one database restart restarted every
project worker of the cluster.
"""

from __future__ import annotations

import time
from uuid import UUID

import pytest

from runloom.db.pool import Pool
from runloom.db.session import service_session
from runloom.manager import loops
from runloom.manager.loops import RegistryContact
from runloom.store import registry
from tests.factory import chain, make_project, make_workflow

from .conftest import HEARTBEAT_S, MakeManager, worker_rows
from .test_worker_manager import deploy

pytestmark = pytest.mark.timeout(90)


async def _age_heartbeats(pool: Pool, project_id: UUID) -> None:
    """What a database outage of an hour looks like to the registry."""
    async with service_session(pool) as conn:
        await conn.execute(
            "UPDATE public.workflow_workers SET last_heartbeat = NOW() - interval '1 hour' "
            "WHERE project_id = %s",
            (project_id,),
        )


async def test_a_manager_never_fails_its_own_live_workers(
    pool: Pool, make_manager: MakeManager
) -> None:
    project = await make_project(pool)
    await deploy(pool, await make_workflow(pool, project, chain(output="ok"), key="own"))
    manager = await make_manager()
    await manager.start_worker_for_project(project.id)
    await _age_heartbeats(pool, project.id)

    await loops.take_over_stale(manager)

    assert [r["status"] for r in await worker_rows(pool, project.id)] == ["running"]
    assert [w.project_id for w in manager.workers()] == [project.id]
    # The row was stale indeed: to anyone else, it is taken over.
    async with service_session(pool) as conn:
        freed = await registry.expire_stale(conn, manager_id="another", stale_s=3 * HEARTBEAT_S)
    assert project.id in freed


async def test_right_after_its_own_outage_a_manager_judges_no_row(
    pool: Pool, make_manager: MakeManager
) -> None:
    project = await make_project(pool)
    await deploy(pool, await make_workflow(pool, project, chain(output="ok"), key="theirs"))
    owner = await make_manager()
    await owner.start_worker_for_project(project.id)
    await _age_heartbeats(pool, project.id)
    judge = await make_manager()
    contact = RegistryContact(HEARTBEAT_S)
    contact.reached(time.monotonic() - 10 * HEARTBEAT_S)  # its last contact, before the outage

    await loops.take_over_stale(judge, contact=contact)

    assert [r["status"] for r in await worker_rows(pool, project.id)] == ["running"]
    assert judge.workers() == []


def test_after_a_gap_rows_get_three_heartbeats_to_be_vouched_for() -> None:
    contact = RegistryContact(heartbeat_s=1.0)
    assert contact.reached(100.0), "a manager that just started judges at once"
    assert contact.reached(101.0) and contact.reached(102.5)
    assert not contact.reached(108.0), "6 s without the database: nobody is judged yet"
    assert not contact.reached(109.0) and not contact.reached(110.0)
    assert contact.reached(111.0), "three heartbeats after the database came back"
