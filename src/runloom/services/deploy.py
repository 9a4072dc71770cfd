"""Deploy: compile a workflow's saved graph and store it as a version; preview; export."""

from __future__ import annotations

from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from runloom import naming
from runloom.compiler import (
    CompiledWorkflow,
    CompileOptions,
    child_workflow_keys,
    compile_workflow,
)
from runloom.compiler import export as compiler_export
from runloom.models import Workflow
from runloom.store import code, workflows

__all__ = ["compile_options", "deploy_workflow", "export_zip", "preview"]

Conn = AsyncConnection[DictRow]


async def compile_options(conn: Conn, workflow: Workflow) -> CompileOptions:
    """Child workflows resolve to the active version of their sibling in the project.

    Only the siblings the graph calls are named, so that deploying an unrelated workflow
    does not change this one's code (and spend a version number on nothing).
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
    )


async def preview(conn: Conn, workflow_id: UUID) -> CompiledWorkflow:
    """What the next version would be; nothing is stored. GraphInvalid lists the problems."""
    workflow = await workflows.get_workflow(conn, workflow_id)
    return compile_workflow(
        workflow.graph,
        workflow_key=workflow.key,
        version=(workflow.version or 0) + 1,
        options=await compile_options(conn, workflow),
    )


async def deploy_workflow(
    conn: Conn, *, workflow_id: UUID, compiled_by: UUID | None
) -> code.StoredCode:
    """Compile the workflow's saved graph and store it as its new active version.

    If the graph compiles to the code of the active version, that version is returned
    (``created=False``) and no version number is spent. GraphInvalid propagates and
    nothing is stored.
    """
    options = await compile_options(conn, await workflows.get_workflow(conn, workflow_id))
    locked = await code.lock_workflow(conn, workflow_id)
    active, highest = await code.active_code(conn, workflow_id)
    if active is not None:
        # Compiled under the active number, identical code means an unchanged workflow.
        same_number = compile_workflow(
            locked.graph, workflow_key=locked.key, version=active.version, options=options
        )
        if code.same_code(active.files, same_number):
            return code.StoredCode(
                code_id=active.code_id,
                version=active.version,
                workflow_type=same_number.workflow_type,
                created=False,
            )
    compiled = compile_workflow(
        locked.graph, workflow_key=locked.key, version=highest + 1, options=options
    )
    return await code.store_locked(
        conn, workflow_id=workflow_id, compiled=compiled, compiled_by=compiled_by
    )


def export_zip(record: code.StoredCodeRecord) -> tuple[str, bytes]:
    """The stored version as a standalone project: its file name and the zip."""
    project = compiler_export.project_files(
        record.files, workflow_key=record.workflow_key, workflow_type=record.workflow_type
    )
    filename = f"{record.workflow_key}-v{record.version}.zip"
    return filename, compiler_export.zip_files(project)
