"""Compiled code in Postgres: one row per version of a workflow, exactly one of them active.

Version ``n`` is stored with ``version = str(n)`` (the seed's column is text) and is an
``int`` everywhere else. Every function takes the connection of an open transaction, so
the caller decides who is asking: ``user_session`` (Row Level Security applies) or
``service_session`` (the manager). Compiling is not done here: see runloom.services.deploy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from runloom import naming
from runloom.compiler import CompiledWorkflow
from runloom.errors import ConflictError, NotFoundError
from runloom.store.queries import sql

__all__ = [
    "ActiveCode",
    "CodeBundleEntry",
    "CodeFiles",
    "CodeVersion",
    "LockedWorkflow",
    "StoredCode",
    "StoredCodeRecord",
    "activate_version",
    "active_code",
    "get_compiled_code",
    "list_versions",
    "load_workflows_for_project",
    "lock_workflow",
    "same_code",
    "store_compiled_code",
    "version_graph",
]

Conn = AsyncConnection[DictRow]

# What makes two compilations "the same code": everything that ends up in the worker or
# in the exported project.
CODE_FIELDS = (
    "workflow_code",
    "activities_code",
    "worker_code",
    "requirements_txt",
    "compiler_options_json",
)


@dataclass(frozen=True, slots=True)
class CodeFiles:
    """The files of one version: what a worker imports and what an export contains."""

    workflow_code: str
    activities_code: str
    worker_code: str
    requirements_txt: str
    compiler_options_json: str


@dataclass(frozen=True, slots=True)
class StoredCode:
    """The version a store or deploy settled on; ``created`` is False if it already existed."""

    code_id: UUID
    version: int
    workflow_type: str
    created: bool


@dataclass(frozen=True, slots=True)
class StoredCodeRecord:
    """One stored version with its code."""

    code_id: UUID
    workflow_id: UUID
    project_id: UUID | None
    workflow_key: str
    version: int
    is_active: bool
    files: CodeFiles
    compiled_at: datetime
    compiled_by: UUID | None

    @property
    def workflow_type(self) -> str:
        return naming.workflow_type(self.workflow_key, self.version)


@dataclass(frozen=True, slots=True)
class CodeVersion:
    """One stored version with its figures and code, for the versions page."""

    code_id: UUID
    version: int
    is_active: bool
    compiled_at: datetime
    compiled_by: UUID | None
    execution_count: int
    error_count: int
    avg_execution_duration_ms: int
    last_executed_at: datetime | None
    open_executions: int
    files: CodeFiles


@dataclass(frozen=True, slots=True)
class CodeBundleEntry:
    """One version a project worker must serve."""

    code_id: UUID
    workflow_id: UUID
    workflow_key: str
    version: int
    is_active: bool
    workflow_code: str
    activities_code: str

    @property
    def workflow_type(self) -> str:
        return naming.workflow_type(self.workflow_key, self.version)

    def module_base(self, project_id: UUID) -> str:
        return naming.module_base(
            project_id=project_id, key=self.workflow_key, version=self.version, code_id=self.code_id
        )


@dataclass(frozen=True, slots=True)
class LockedWorkflow:
    """A workflow row held ``FOR UPDATE``: deploys of one workflow take turns."""

    id: UUID
    key: str
    graph: dict[str, Any]
    project_id: UUID


@dataclass(frozen=True, slots=True)
class ActiveCode:
    code_id: UUID
    version: int
    files: CodeFiles


def _files(row: Mapping[str, Any]) -> CodeFiles:
    return CodeFiles(**{name: row[name] for name in CODE_FIELDS})


def same_code(files: CodeFiles, compiled: CompiledWorkflow) -> bool:
    return all(getattr(files, name) == getattr(compiled, name) for name in CODE_FIELDS)


def _version(label: str) -> int:
    # Every version runloom stores is a number; the column is text only because the seed's is.
    return int(label) if label.isdigit() else 0


async def lock_workflow(conn: Conn, workflow_id: UUID) -> LockedWorkflow:
    cur = await conn.execute(sql("codestore_lock_workflow"), {"workflow_id": workflow_id})
    row = await cur.fetchone()
    if row is None:
        raise NotFoundError(f"workflow {workflow_id} does not exist")
    return LockedWorkflow(**row)


async def active_code(conn: Conn, workflow_id: UUID) -> tuple[ActiveCode | None, int]:
    """The active version (if any) and the highest version number stored so far."""
    cur = await conn.execute(sql("codestore_active_and_max"), {"workflow_id": workflow_id})
    row = await cur.fetchone()
    assert row is not None
    highest = int(row["max_version"] or 0)
    if row["id"] is None or not str(row["version"]).isdigit():
        return None, highest
    return ActiveCode(code_id=row["id"], version=int(row["version"]), files=_files(row)), highest


async def _make_active(conn: Conn, *, workflow_id: UUID, version: int) -> None:
    label = str(version)
    await conn.execute(sql("codestore_deactivate"), {"workflow_id": workflow_id, "version": label})
    await conn.execute(
        sql("codestore_set_workflow_version"), {"workflow_id": workflow_id, "version": label}
    )


async def store_locked(
    conn: Conn,
    *,
    workflow_id: UUID,
    compiled: CompiledWorkflow,
    compiled_by: UUID | None,
    graph: Mapping[str, Any] | None = None,
) -> StoredCode:
    """:func:`store_compiled_code` for a caller that already holds :func:`lock_workflow`.

    ``graph`` (the graph ``compiled`` was compiled from) is kept with a new version; an
    existing version, reused because its code is the same, keeps the graph it has."""
    label = str(compiled.version)
    cur = await conn.execute(
        sql("codestore_get_version"), {"workflow_id": workflow_id, "version": label}
    )
    existing = await cur.fetchone()
    if existing is not None:
        if not same_code(_files(existing), compiled):
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
                "graph": None if graph is None else Jsonb(dict(graph)),
                **{name: getattr(compiled, name) for name in CODE_FIELDS},
            },
        )
        inserted = await cur.fetchone()
        assert inserted is not None
        code_id = inserted["id"]
        created = True
    await _make_active(conn, workflow_id=workflow_id, version=compiled.version)
    return StoredCode(
        code_id=code_id,
        version=compiled.version,
        workflow_type=compiled.workflow_type,
        created=created,
    )


async def store_compiled_code(
    conn: Conn,
    *,
    workflow_id: UUID,
    compiled: CompiledWorkflow,
    compiled_by: UUID | None,
    graph: Mapping[str, Any] | None = None,
) -> StoredCode:
    """Store ``compiled`` as version ``compiled.version`` and make it the active one.

    Storing exactly the code of an existing version re-activates that version and returns
    it with ``created=False``; other code under an existing version number raises
    ConflictError. Raises NotFoundError if the workflow does not exist (or is not visible
    to the session's user).
    """
    await lock_workflow(conn, workflow_id)
    return await store_locked(
        conn, workflow_id=workflow_id, compiled=compiled, compiled_by=compiled_by, graph=graph
    )


async def get_compiled_code(
    conn: Conn, *, workflow_id: UUID, version: int | None = None
) -> StoredCodeRecord:
    """The active version of a workflow, or the given one; NotFoundError if there is none."""
    label = None if version is None else str(version)
    cur = await conn.execute(sql("codestore_get"), {"workflow_id": workflow_id, "version": label})
    row = await cur.fetchone()
    if row is None:
        what = "no deployed version" if label is None else f"no version {label}"
        raise NotFoundError(f"workflow {workflow_id} has {what}")
    return StoredCodeRecord(
        code_id=row["id"],
        workflow_id=row["workflow_id"],
        project_id=row["project_id"],
        workflow_key=row["workflow_key"],
        version=_version(row["version"]),
        is_active=row["is_active"],
        files=_files(row),
        compiled_at=row["compiled_at"],
        compiled_by=row["compiled_by"],
    )


async def list_versions(conn: Conn, *, workflow_id: UUID) -> list[CodeVersion]:
    """Every stored version of a workflow, newest first."""
    cur = await conn.execute(sql("codestore_list_versions"), {"workflow_id": workflow_id})
    return [
        CodeVersion(
            code_id=row["id"],
            version=_version(row["version"]),
            is_active=row["is_active"],
            compiled_at=row["compiled_at"],
            compiled_by=row["compiled_by"],
            execution_count=row["execution_count"],
            error_count=row["error_count"],
            avg_execution_duration_ms=row["avg_execution_duration_ms"],
            last_executed_at=row["last_executed_at"],
            open_executions=row["open_executions"],
            files=_files(row),
        )
        for row in await cur.fetchall()
    ]


async def activate_version(conn: Conn, *, workflow_id: UUID, version: int) -> StoredCode:
    """Make a stored version the active one again (rollback); the others become inactive.

    The workflow's draft graph becomes the version's graph, when the version kept one."""
    workflow = await lock_workflow(conn, workflow_id)
    cur = await conn.execute(
        sql("codestore_activate"), {"workflow_id": workflow_id, "version": str(version)}
    )
    row = await cur.fetchone()
    if row is None:
        raise NotFoundError(f"workflow {workflow_id} has no version {version}")
    await _make_active(conn, workflow_id=workflow_id, version=version)
    label = {"workflow_id": workflow_id, "version": str(version)}
    await conn.execute(sql("codestore_restore_graph"), label)
    return StoredCode(
        code_id=row["id"],
        version=version,
        workflow_type=naming.workflow_type(workflow.key, version),
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
            version=_version(row["version"]),
            is_active=row["is_active"],
            workflow_code=row["workflow_code"],
            activities_code=row["activities_code"],
        )
        for row in await cur.fetchall()
    ]


async def version_graph(conn: Conn, *, workflow_id: UUID, version: int) -> dict[str, Any] | None:
    """The graph a version was compiled from; None for versions stored before graphs were
    kept. NotFoundError if there is no such version (or it is not visible)."""
    cur = await conn.execute(
        sql("codestore_get_graph"), {"workflow_id": workflow_id, "version": str(version)}
    )
    row = await cur.fetchone()
    if row is None:
        raise NotFoundError(f"workflow {workflow_id} has no version {version}")
    graph: dict[str, Any] | None = row["graph"]
    return graph
