"""Deploy: compile a workflow's saved graph and store it as a version; preview; export.

Compilation runs in a compile process (:mod:`runloom.services.compile_pool`), never on
the event loop, and before the workflow's row is locked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from runloom import naming
from runloom.compiler import (
    CompiledWorkflow,
    CompileOptions,
    RunBounds,
    child_workflow_keys,
)
from runloom.compiler import export as compiler_export
from runloom.models import Workflow
from runloom.services import compile_pool
from runloom.services.compile_pool import CompilePool
from runloom.store import code, secrets, workflows

__all__ = ["compile_options", "deploy_workflow", "export_zip", "preview"]

Conn = AsyncConnection[DictRow]


async def compile_options(
    conn: Conn, workflow: Workflow, *, bounds: RunBounds | None = None
) -> CompileOptions:
    """Child workflows resolve to the active version of their sibling in the project.

    Only the siblings the graph calls are named, so that deploying an unrelated workflow
    does not change this one's code (and spend a version number on nothing). ``bounds``
    (from the settings, :func:`runloom.services.quotas.run_bounds`) are compiled in. The
    names of the project's secrets, read in the caller's transaction, make a reference to
    a secret the project lacks a problem on its node (names only: no value is read).
    """
    wanted = child_workflow_keys(workflow.graph)
    siblings = (
        await workflows.list_workflows(conn, project_id=workflow.project_id) if wanted else []
    )
    return CompileOptions(
        include_comments=True,
        strict_mode=True,
        child_workflow_types={
            w.key: naming.workflow_type(w.key, w.version)
            for w in siblings
            if w.version is not None and w.key in wanted
        },
        bounds=bounds,
        secret_names=await secrets.secret_names(conn, project_id=workflow.project_id),
    )


async def preview(
    conn: Conn,
    workflow_id: UUID,
    *,
    bounds: RunBounds | None = None,
    compiler: CompilePool | None = None,
    graph: dict[str, Any] | None = None,
) -> CompiledWorkflow:
    """What the next version would be, of the saved graph or of the draft ``graph``;
    nothing is stored. GraphInvalid lists the problems; a graph the compiler's bounds stop
    raises a CompileError (``compiler``: by default
    :func:`runloom.services.compile_pool.current`)."""
    workflow = await workflows.get_workflow(conn, workflow_id)
    options = await compile_options(conn, workflow, bounds=bounds)
    return await (compiler or compile_pool.current()).compile(
        workflow.graph if graph is None else graph,
        workflow_key=workflow.key,
        version=(workflow.version or 0) + 1,
        options=options,
    )


@dataclass(frozen=True)
class _Plan:
    """What deploying a graph comes to, compiled against the versions stored when it was."""

    graph: dict[str, Any]
    key: str
    active: code.ActiveCode | None
    highest: int
    unchanged: CompiledWorkflow | None  # the active version's code, when still the same
    compiled: CompiledWorkflow | None  # else the next version

    def still_holds(
        self, locked: code.LockedWorkflow, versions: tuple[code.ActiveCode | None, int]
    ) -> bool:
        """Whether the locked row and its versions are still those this plan compiled."""
        active, highest = versions
        now = (locked.graph, locked.key, active.code_id if active else None, highest)
        then = (self.graph, self.key, self.active.code_id if self.active else None)
        return now == (*then, self.highest)


async def _plan(
    compiler: CompilePool,
    graph: dict[str, Any],
    key: str,
    options: CompileOptions,
    versions: tuple[code.ActiveCode | None, int],
) -> _Plan:
    active, highest = versions
    if active is not None:
        # Compiled under the active number, identical code means an unchanged workflow.
        same_number = await compiler.compile(
            graph, workflow_key=key, version=active.version, options=options
        )
        if code.same_code(active.files, same_number):
            return _Plan(graph, key, active, highest, unchanged=same_number, compiled=None)
    compiled = await compiler.compile(graph, workflow_key=key, version=highest + 1, options=options)
    return _Plan(graph, key, active, highest, unchanged=None, compiled=compiled)


async def deploy_workflow(
    conn: Conn,
    *,
    workflow_id: UUID,
    compiled_by: UUID | None,
    bounds: RunBounds | None = None,
    compiler: CompilePool | None = None,
) -> code.StoredCode:
    """Compile the workflow's saved graph and store it as its new active version.

    If the graph compiles to the code of the active version, that version is returned
    (``created=False``) and no version number is spent. GraphInvalid (or a CompileError)
    propagates and nothing is stored.
    """
    compiler = compiler or compile_pool.current()
    workflow = await workflows.get_workflow(conn, workflow_id)
    options = await compile_options(conn, workflow, bounds=bounds)
    # Compiled before the row is locked, so a slow graph keeps no one else waiting; if
    # the graph or the active version changed meanwhile, compiled again under the lock.
    versions = await code.active_code(conn, workflow_id)
    plan = await _plan(compiler, workflow.graph, workflow.key, options, versions)
    locked = await code.lock_workflow(conn, workflow_id)
    versions = await code.active_code(conn, workflow_id)
    if not plan.still_holds(locked, versions):
        plan = await _plan(compiler, locked.graph, locked.key, options, versions)
    if plan.unchanged is not None and plan.active is not None:
        return code.StoredCode(
            code_id=plan.active.code_id,
            version=plan.active.version,
            workflow_type=plan.unchanged.workflow_type,
            created=False,
        )
    assert plan.compiled is not None
    return await code.store_locked(
        conn,
        workflow_id=workflow_id,
        compiled=plan.compiled,
        compiled_by=compiled_by,
        graph=plan.graph,
    )


def export_zip(record: code.StoredCodeRecord) -> tuple[str, bytes]:
    """The stored version as a standalone project: its file name and the zip."""
    project = compiler_export.project_files(
        record.files, workflow_key=record.workflow_key, workflow_type=record.workflow_type
    )
    filename = f"{record.workflow_key}-v{record.version}.zip"
    return filename, compiler_export.zip_files(project)
