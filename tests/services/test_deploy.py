"""Deploy and preview compile off the event loop and before any lock; hostile graphs are
422s in bounded time while other requests go on, and store nothing."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from runloom.compiler import CompiledWorkflow, CompileOptions, GraphInvalid
from runloom.compiler.options import DEFAULT_OPTIONS
from runloom.db.pool import Pool
from runloom.db.session import service_session, user_session
from runloom.services import deploy
from runloom.services.compile_pool import CompileError, CompilePool, PoolLimits
from runloom.store import code, workflows
from tests.factory import chain, make_project, make_workflow, set_graph
from tests.services.test_compile_pool import TIMEOUT_S, slow_graph, transform

pytestmark = pytest.mark.slow


def _claims(user_id: uuid.UUID) -> dict[str, str]:
    return {"sub": str(user_id), "role": "authenticated", "aud": "authenticated"}


@pytest.fixture(scope="module")
async def compiler() -> AsyncIterator[CompilePool]:
    pool = CompilePool(PoolLimits(workers=2, timeout_s=TIMEOUT_S))
    yield pool
    await pool.close()


async def _requests_meanwhile(
    pool: Pool, claims: dict[str, str], until: asyncio.Task[Any]
) -> float:
    """What other requests do while ``until`` runs: read a workflow list, again and again;
    the longest one of them took."""
    longest = 0.0
    while not until.done():
        started = time.monotonic()
        async with user_session(pool, claims) as conn:
            await workflows.list_workflows(conn, project_id=None)
        longest = max(longest, time.monotonic() - started)
    return longest


@pytest.mark.parametrize(
    ("graph", "raised"),
    [
        (chain(transform("{{ 3**(10**9) }}")), GraphInvalid),
        (chain(transform("{{ 'x'*10**9 }}")), GraphInvalid),
        (slow_graph(), CompileError),
    ],
    ids=["power", "repetition", "slow"],
)
async def test_hostile_graphs_fail_in_bounded_time_while_requests_go_on(
    pool: Pool, compiler: CompilePool, graph: dict[str, Any], raised: type[Exception]
) -> None:
    project = await make_project(pool)
    workflow_id = await make_workflow(pool, project, graph)
    claims = _claims(project.user_id)
    for action in ("preview", "deploy"):
        started = time.monotonic()

        async def attempt(action: str) -> object:
            async with user_session(pool, claims) as conn:
                if action == "preview":
                    return await deploy.preview(conn, workflow_id, compiler=compiler)
                return await deploy.deploy_workflow(
                    conn, workflow_id=workflow_id, compiled_by=project.user_id, compiler=compiler
                )

        task = asyncio.ensure_future(attempt(action))
        longest_request = await _requests_meanwhile(pool, claims, task)
        with pytest.raises(raised):
            await task
        assert time.monotonic() - started < TIMEOUT_S + 3, action
        assert longest_request < 1.0, action
    async with user_session(pool, claims) as conn:
        assert await code.list_versions(conn, workflow_id=workflow_id) == []


class _Held(CompilePool):
    """Compiles in process, but each compilation waits for ``release`` first."""

    def __init__(self) -> None:
        super().__init__()
        self.compiling = asyncio.Event()
        self.release = asyncio.Event()
        self.graphs: list[Any] = []

    async def compile(
        self,
        graph: Any,
        *,
        workflow_key: str,
        version: int,
        options: CompileOptions = DEFAULT_OPTIONS,
    ) -> CompiledWorkflow:
        self.graphs.append(graph)
        self.compiling.set()
        await self.release.wait()
        return await CompilePool.compile(
            self, graph, workflow_key=workflow_key, version=version, options=options
        )


async def test_deploy_compiles_before_locking_and_again_if_the_graph_changed(pool: Pool) -> None:
    project = await make_project(pool)
    first, second = chain(transform("{{ input.a }}")), chain(transform("{{ input.b }}"))
    workflow_id = await make_workflow(pool, project, first, key="racing")
    held = _Held()
    try:

        async def deploying() -> code.StoredCode:
            async with service_session(pool) as conn:
                return await deploy.deploy_workflow(
                    conn, workflow_id=workflow_id, compiled_by=None, compiler=held
                )

        task = asyncio.ensure_future(deploying())
        await held.compiling.wait()
        # While it compiles, the row is not locked: a save of the graph goes through.
        async with service_session(pool) as conn:
            await conn.execute(
                "SELECT id FROM public.workflows WHERE id = %s FOR UPDATE NOWAIT", (workflow_id,)
            )
        await set_graph(pool, workflow_id, second)
        held.release.set()
        stored = await task
    finally:
        await held.close()
    # The graph changed while it compiled: what is stored is the saved graph's code.
    assert held.graphs == [first, second]
    assert (stored.version, stored.created) == (1, True)
    async with service_session(pool) as conn:
        record = await code.get_compiled_code(conn, workflow_id=workflow_id, version=1)
    assert "input.b" in record.files.workflow_code and "input.a" not in record.files.workflow_code
