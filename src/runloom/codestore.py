"""Compiled code in Postgres: one row per version of a workflow, exactly one of them active.

Version ``n`` of a workflow with key ``k`` is stored with ``version = str(n)`` and runs as
the Temporal workflow type ``f"{k}@v{n}"``. Every function takes the connection of an
open transaction, so the caller decides who is asking: ``user_session`` (Row Level
Security applies) or ``service_session`` (the manager).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from runloom.compiler import CompiledWorkflow, CompileOptions, compile_workflow
from runloom.db import sql
from runloom.errors import ConflictError, NotFoundError

__all__ = [
    "CodeBundleEntry",
    "CodeVersion",
    "StoredCode",
    "StoredCodeRecord",
    "activate_version",
    "deploy_workflow",
    "get_compiled_code",
    "list_versions",
    "load_workflows_for_project",
    "module_base",
    "store_compiled_code",
]

Conn = AsyncConnection[DictRow]

# What makes two compilations "the same code": everything that ends up in the worker or
# in the exported project.
_CODE_FIELDS = (
    "workflow_code",
    "activities_code",
    "worker_code",
    "requirements_txt",
    "compiler_options_json",
)


@dataclass(frozen=True, slots=True)
class StoredCode:
    """The version a store or deploy settled on; ``created`` is False if it already existed."""

    code_id: UUID
    version: int
    workflow_type: str
    created: bool

    @property
    def version_label(self) -> str:
        """The string stored in ``workflow_compiled_code.version`` and ``code_version``."""
        return str(self.version)


@dataclass(frozen=True, slots=True)
class StoredCodeRecord:
    """One stored version with its code."""

    code_id: UUID
    workflow_id: UUID
    project_id: UUID | None
    workflow_key: str
    version: str
    is_active: bool
    workflow_code: str
    activities_code: str
    worker_code: str
    requirements_txt: str
    compiler_options_json: str
    compiled_at: datetime
    compiled_by: UUID | None

    @property
    def workflow_type(self) -> str:
        return f"{self.workflow_key}@v{self.version}"


@dataclass(frozen=True, slots=True)
class CodeVersion:
    """One stored version without its code, for listings."""

    code_id: UUID
    version: str
    is_active: bool
    compiled_at: datetime
    compiled_by: UUID | None
    execution_count: int
    error_count: int
    avg_execution_duration_ms: int
    last_executed_at: datetime | None
    open_executions: int


@dataclass(frozen=True, slots=True)
class CodeBundleEntry:
    """One version a project worker must serve."""

    code_id: UUID
    workflow_id: UUID
    workflow_key: str
    version: str
    is_active: bool
    workflow_code: str
    activities_code: str

    @property
    def workflow_type(self) -> str:
        return f"{self.workflow_key}@v{self.version}"

    def module_base(self, project_id: UUID) -> str:
        return module_base(
            project_id=project_id,
            workflow_key=self.workflow_key,
            version=self.version,
            code_id=self.code_id,
        )


def module_base(*, project_id: UUID, workflow_key: str, version: str, code_id: UUID) -> str:
    """The dotted module name under which one stored version is imported in a worker.

    The code id is part of the name because a workflow can be deleted and re-created under
    the same key, restarting at v1 with other code, while the worker process lives on; a
    module name must always serve the same source.
    """
    key = workflow_key.replace("-", "_")
    return f"runloom_code.p_{project_id.hex}.w_{key}.v{version}_{code_id.hex[:12]}"


def _same_code(row: dict[str, Any], compiled: CompiledWorkflow) -> bool:
    return all(row[name] == getattr(compiled, name) for name in _CODE_FIELDS)


async def _lock_workflow(conn: Conn, workflow_id: UUID) -> DictRow:
    cur = await conn.execute(sql("codestore_lock_workflow"), {"workflow_id": workflow_id})
    row = await cur.fetchone()
    if row is None:
        raise NotFoundError(f"workflow {workflow_id} does not exist")
    return row


async def _store_locked(
    conn: Conn, *, workflow_id: UUID, compiled: CompiledWorkflow, compiled_by: UUID | None
) -> StoredCode:
    label = str(compiled.version)
    cur = await conn.execute(
        sql("codestore_get_version"), {"workflow_id": workflow_id, "version": label}
    )
    existing = await cur.fetchone()
    if existing is not None:
        if not _same_code(existing, compiled):
            raise ConflictError(
                f"version {label} of workflow {workflow_id} is already stored with other "
                "code; compile with a new version number"
            )
        code_id: UUID = existing["id"]
        created = False
        if not existing["is_active"]:
            await conn.execute(
                sql("codestore_activate"), {"workflow_id": workflow_id, "version": label}
            )
    else:
        cur = await conn.execute(
            sql("codestore_insert"),
            {
                "workflow_id": workflow_id,
                "version": label,
                "compiled_by": compiled_by,
                **{name: getattr(compiled, name) for name in _CODE_FIELDS},
            },
        )
        inserted = await cur.fetchone()
        assert inserted is not None
        code_id = inserted["id"]
        created = True
    await conn.execute(sql("codestore_deactivate"), {"workflow_id": workflow_id, "version": label})
    await conn.execute(
        sql("codestore_set_workflow_version"), {"workflow_id": workflow_id, "version": label}
    )
    return StoredCode(
        code_id=code_id,
        version=compiled.version,
        workflow_type=compiled.workflow_type,
        created=created,
    )


async def store_compiled_code(
    conn: Conn, *, workflow_id: UUID, compiled: CompiledWorkflow, compiled_by: UUID | None
) -> StoredCode:
    """Store ``compiled`` as version ``compiled.version`` and make it the active one.

    Storing exactly the code of an existing version re-activates that version and returns
    it with ``created=False``; other code under an existing version number raises
    ConflictError. Raises NotFoundError if the workflow does not exist (or is not visible
    to the session's user).
    """
    await _lock_workflow(conn, workflow_id)
    return await _store_locked(
        conn, workflow_id=workflow_id, compiled=compiled, compiled_by=compiled_by
    )


async def deploy_workflow(
    conn: Conn,
    *,
    workflow_id: UUID,
    compiled_by: UUID | None,
    options: CompileOptions | None = None,
) -> StoredCode:
    """Compile the workflow's saved graph and store it as its new active version.

    If the graph compiles to the code of the active version, that version is returned
    (``created=False``) and no version number is spent. GraphInvalid propagates and
    nothing is stored.
    """
    options = options or CompileOptions()
    workflow = await _lock_workflow(conn, workflow_id)
    cur = await conn.execute(sql("codestore_active_and_max"), {"workflow_id": workflow_id})
    state = await cur.fetchone()
    assert state is not None
    if state["id"] is not None and str(state["version"]).isdigit():
        # Compiled under the active number, identical code means an unchanged workflow.
        same_number = compile_workflow(
            workflow["graph"],
            workflow_key=workflow["key"],
            version=int(state["version"]),
            options=options,
        )
        if _same_code(state, same_number):
            return StoredCode(
                code_id=state["id"],
                version=same_number.version,
                workflow_type=same_number.workflow_type,
                created=False,
            )
    next_version = (state["max_version"] or 0) + 1
    compiled = compile_workflow(
        workflow["graph"], workflow_key=workflow["key"], version=next_version, options=options
    )
    return await _store_locked(
        conn, workflow_id=workflow_id, compiled=compiled, compiled_by=compiled_by
    )


def _record(row: DictRow) -> StoredCodeRecord:
    return StoredCodeRecord(
        code_id=row["id"],
        workflow_id=row["workflow_id"],
        project_id=row["project_id"],
        workflow_key=row["workflow_key"],
        version=row["version"],
        is_active=row["is_active"],
        workflow_code=row["workflow_code"],
        activities_code=row["activities_code"],
        worker_code=row["worker_code"],
        requirements_txt=row["requirements_txt"],
        compiler_options_json=row["compiler_options_json"],
        compiled_at=row["compiled_at"],
        compiled_by=row["compiled_by"],
    )


async def get_compiled_code(
    conn: Conn, *, workflow_id: UUID, version: str | int | None = None
) -> StoredCodeRecord:
    """The active version of a workflow, or the given one; NotFoundError if there is none."""
    label = None if version is None else str(version)
    cur = await conn.execute(sql("codestore_get"), {"workflow_id": workflow_id, "version": label})
    row = await cur.fetchone()
    if row is None:
        what = "no deployed version" if label is None else f"no version {label}"
        raise NotFoundError(f"workflow {workflow_id} has {what}")
    return _record(row)


async def list_versions(conn: Conn, *, workflow_id: UUID) -> list[CodeVersion]:
    """Every stored version of a workflow, newest first."""
    cur = await conn.execute(sql("codestore_list_versions"), {"workflow_id": workflow_id})
    return [
        CodeVersion(
            code_id=row["id"],
            version=row["version"],
            is_active=row["is_active"],
            compiled_at=row["compiled_at"],
            compiled_by=row["compiled_by"],
            execution_count=row["execution_count"],
            error_count=row["error_count"],
            avg_execution_duration_ms=row["avg_execution_duration_ms"],
            last_executed_at=row["last_executed_at"],
            open_executions=row["open_executions"],
        )
        for row in await cur.fetchall()
    ]


async def activate_version(conn: Conn, *, workflow_id: UUID, version: str | int) -> StoredCode:
    """Make a stored version the active one again (rollback); the others become inactive."""
    workflow = await _lock_workflow(conn, workflow_id)
    label = str(version)
    cur = await conn.execute(
        sql("codestore_activate"), {"workflow_id": workflow_id, "version": label}
    )
    row = await cur.fetchone()
    if row is None:
        raise NotFoundError(f"workflow {workflow_id} has no version {label}")
    await conn.execute(sql("codestore_deactivate"), {"workflow_id": workflow_id, "version": label})
    await conn.execute(
        sql("codestore_set_workflow_version"), {"workflow_id": workflow_id, "version": label}
    )
    return StoredCode(
        code_id=row["id"],
        version=int(label) if label.isdigit() else 0,
        workflow_type=f"{workflow['key']}@v{label}",
        created=False,
    )


async def load_workflows_for_project(
    conn: Conn, project_id: UUID, *, extra_workflow_types: Sequence[str] = ()
) -> list[CodeBundleEntry]:
    """What the project's worker must serve.

    The active version of every workflow, every older version that still has open
    executions (``pending``/``running`` with that ``code_version``), and any version named
    in ``extra_workflow_types`` (``key@vN``; the manager passes the types of runs that
    Temporal reports open on the project's queue, such as runs started outside runloom).
    """
    cur = await conn.execute(
        sql("codestore_load_project"),
        {"project_id": project_id, "extra_types": list(extra_workflow_types)},
    )
    return [
        CodeBundleEntry(
            code_id=row["id"],
            workflow_id=row["workflow_id"],
            workflow_key=row["workflow_key"],
            version=row["version"],
            is_active=row["is_active"],
            workflow_code=row["workflow_code"],
            activities_code=row["activities_code"],
        )
        for row in await cur.fetchall()
    ]
