"""The code store against the real, migrated Postgres (RLS included)."""

from __future__ import annotations

import uuid

import pytest

from runloom.compiler import GraphInvalid, compile_workflow
from runloom.db.pool import Pool
from runloom.db.session import service_session, user_session
from runloom.errors import ConflictError, NotFoundError
from runloom.services import deploy
from runloom.store import code
from tests.factory import (
    approval_graph,
    chain,
    make_project,
    make_workflow,
    record_execution,
    set_execution_status,
    set_graph,
)


def _claims(user_id: uuid.UUID) -> dict[str, str]:
    return {"sub": str(user_id), "role": "authenticated", "aud": "authenticated"}


async def test_store_get_list_activate(pool: Pool) -> None:
    project = await make_project(pool)
    graph_v1 = approval_graph("one")
    workflow_id = await make_workflow(pool, project, graph_v1, key="orders")
    claims = _claims(project.user_id)

    async with user_session(pool, claims) as conn:
        first = await code.store_compiled_code(
            conn,
            workflow_id=workflow_id,
            compiled=compile_workflow(graph_v1, workflow_key="orders", version=1),
            compiled_by=project.user_id,
        )
    assert (first.version, first.workflow_type, first.created) == (1, "orders@v1", True)

    # The same code again is the same version, not a new one.
    async with user_session(pool, claims) as conn:
        again = await code.store_compiled_code(
            conn,
            workflow_id=workflow_id,
            compiled=compile_workflow(graph_v1, workflow_key="orders", version=1),
            compiled_by=project.user_id,
        )
    assert again == code.StoredCode(first.code_id, 1, "orders@v1", created=False)

    # Other code under a used number is refused, and changes nothing.
    with pytest.raises(ConflictError, match="version 1"):
        async with user_session(pool, claims) as conn:
            await code.store_compiled_code(
                conn,
                workflow_id=workflow_id,
                compiled=compile_workflow(approval_graph("x"), workflow_key="orders", version=1),
                compiled_by=project.user_id,
            )

    graph_v2 = approval_graph("two")
    async with user_session(pool, claims) as conn:
        second = await code.store_compiled_code(
            conn,
            workflow_id=workflow_id,
            compiled=compile_workflow(graph_v2, workflow_key="orders", version=2),
            compiled_by=project.user_id,
        )
        active = await code.get_compiled_code(conn, workflow_id=workflow_id)
        old = await code.get_compiled_code(conn, workflow_id=workflow_id, version=1)
        versions = await code.list_versions(conn, workflow_id=workflow_id)
        cur = await conn.execute(
            "SELECT version FROM public.workflows WHERE id = %s", (workflow_id,)
        )
        row = await cur.fetchone()
    assert second.created and second.version == 2
    assert (active.version, active.is_active, active.workflow_type) == (2, True, "orders@v2")
    assert '"two ' in active.files.workflow_code and '"one ' in old.files.workflow_code
    assert not old.is_active
    assert [(v.version, v.is_active) for v in versions] == [(2, True), (1, False)]
    assert row is not None and row["version"] == "2"

    # Rollback.
    async with user_session(pool, claims) as conn:
        rolled = await code.activate_version(conn, workflow_id=workflow_id, version=1)
        versions = await code.list_versions(conn, workflow_id=workflow_id)
        active = await code.get_compiled_code(conn, workflow_id=workflow_id)
    assert rolled.code_id == first.code_id and rolled.workflow_type == "orders@v1"
    assert [(v.version, v.is_active) for v in versions] == [(2, False), (1, True)]
    assert active.version == 1

    async with user_session(pool, claims) as conn:
        with pytest.raises(NotFoundError, match="no version 7"):
            await code.activate_version(conn, workflow_id=workflow_id, version=7)
    async with user_session(pool, claims) as conn:
        with pytest.raises(NotFoundError, match="no version 9"):
            await code.get_compiled_code(conn, workflow_id=workflow_id, version=9)


async def test_another_users_code_is_invisible(pool: Pool) -> None:
    project = await make_project(pool)
    stranger = await make_project(pool)
    graph = approval_graph("mine")
    workflow_id = await make_workflow(pool, project, graph, key="mine")
    async with user_session(pool, _claims(project.user_id)) as conn:
        await deploy.deploy_workflow(conn, workflow_id=workflow_id, compiled_by=project.user_id)
    async with user_session(pool, _claims(stranger.user_id)) as conn:
        with pytest.raises(NotFoundError):
            await code.get_compiled_code(conn, workflow_id=workflow_id)
        assert await code.list_versions(conn, workflow_id=workflow_id) == []
        with pytest.raises(NotFoundError):
            await deploy.deploy_workflow(
                conn, workflow_id=workflow_id, compiled_by=stranger.user_id
            )


async def test_deploy_numbers_versions_and_reuses_unchanged_code(pool: Pool) -> None:
    project = await make_project(pool)
    workflow_id = await make_workflow(pool, project, approval_graph("a"), key="deploys")

    async with service_session(pool) as conn:
        v1 = await deploy.deploy_workflow(conn, workflow_id=workflow_id, compiled_by=None)
    async with service_session(pool) as conn:
        unchanged = await deploy.deploy_workflow(conn, workflow_id=workflow_id, compiled_by=None)
    assert (v1.version, v1.created) == (1, True)
    assert unchanged == code.StoredCode(v1.code_id, 1, "deploys@v1", created=False)

    await set_graph(pool, workflow_id, approval_graph("b"))
    async with service_session(pool) as conn:
        v2 = await deploy.deploy_workflow(conn, workflow_id=workflow_id, compiled_by=None)
    assert (v2.version, v2.workflow_type, v2.created) == (2, "deploys@v2", True)

    # After a rollback to v1, a changed graph takes the next unused number, 3.
    async with service_session(pool) as conn:
        await code.activate_version(conn, workflow_id=workflow_id, version=1)
    await set_graph(pool, workflow_id, approval_graph("c"))
    async with service_session(pool) as conn:
        v3 = await deploy.deploy_workflow(conn, workflow_id=workflow_id, compiled_by=None)
        active = await code.get_compiled_code(conn, workflow_id=workflow_id)
    assert v3.version == 3 and active.version == 3 and '"c ' in active.files.workflow_code

    # An invalid graph stores nothing and keeps the active version.
    await set_graph(pool, workflow_id, {"nodes": [{"id": "start", "type": "start"}], "edges": []})
    with pytest.raises(GraphInvalid) as raised:
        async with service_session(pool) as conn:
            await deploy.deploy_workflow(conn, workflow_id=workflow_id, compiled_by=None)
    assert raised.value.problems
    async with service_session(pool) as conn:
        versions = await code.list_versions(conn, workflow_id=workflow_id)
    assert [(v.version, v.is_active) for v in versions] == [
        (3, True),
        (2, False),
        (1, False),
    ]


async def test_load_for_project_has_active_and_versions_with_open_runs(pool: Pool) -> None:
    project = await make_project(pool)
    other = await make_project(pool)
    orders = await make_workflow(pool, project, approval_graph("o1"), key="orders")
    refunds = await make_workflow(pool, project, chain(output="r"), key="refunds")
    await make_workflow(pool, project, chain(output="never deployed"), key="drafts")
    foreign = await make_workflow(pool, other, chain(output="f"), key="orders")

    async with service_session(pool) as conn:
        for wf in (orders, refunds, foreign):
            await deploy.deploy_workflow(conn, workflow_id=wf, compiled_by=None)
    # orders v1 has one open run and one finished; v2 becomes active; v3 has no runs.
    open_run = await record_execution(pool, project, orders, version=1, temporal_workflow_id="a")
    await record_execution(
        pool, project, orders, version=1, temporal_workflow_id="b", status="completed"
    )
    for label in ("o2", "o3"):
        await set_graph(pool, orders, approval_graph(label))
        async with service_session(pool) as conn:
            await deploy.deploy_workflow(conn, workflow_id=orders, compiled_by=None)
    # refunds v1 was superseded and its only run finished: it is not loaded.
    await set_graph(pool, refunds, chain(output="r2"))
    async with service_session(pool) as conn:
        await deploy.deploy_workflow(conn, workflow_id=refunds, compiled_by=None)

    async with service_session(pool) as conn:
        bundle = await code.load_workflows_for_project(conn, project.id)
    assert sorted((e.workflow_type, e.is_active) for e in bundle) == [
        ("orders@v1", False),
        ("orders@v3", True),
        ("refunds@v2", True),
    ]
    assert len({e.module_base(project.id) for e in bundle}) == 3

    # Runs Temporal knows about (started outside runloom) can keep an old version too.
    async with service_session(pool) as conn:
        bundle = await code.load_workflows_for_project(
            conn, project.id, extra_workflow_types=["orders@v2", "nope@v1"]
        )
    assert sorted(e.workflow_type for e in bundle) == [
        "orders@v1",
        "orders@v2",
        "orders@v3",
        "refunds@v2",
    ]

    await set_execution_status(pool, open_run, "completed")
    async with service_session(pool) as conn:
        bundle = await code.load_workflows_for_project(conn, project.id)
    assert sorted(e.workflow_type for e in bundle) == ["orders@v3", "refunds@v2"]
