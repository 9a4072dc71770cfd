"""Executions: runloom's record of each Temporal run it started or followed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from runloom.db import sql
from runloom.errors import NotFoundError
from runloom.models import Execution, ExecutionStatus
from runloom.settings import Settings


@dataclass(frozen=True, slots=True)
class StartContext:
    workflow_id: uuid.UUID
    key: str
    project_id: uuid.UUID
    task_queue_name: str
    code_id: uuid.UUID
    version: str
    worker_ready: bool

    @property
    def workflow_type(self) -> str:
        return f"{self.key}@v{self.version}"


async def start_context(
    conn: AsyncConnection[DictRow], *, workflow_id: uuid.UUID, version: str | None
) -> StartContext:
    cur = await conn.execute(
        sql("executions_start_context"), {"workflow_id": workflow_id, "version": version}
    )
    row = await cur.fetchone()
    if row is None:
        raise NotFoundError(f"workflow {workflow_id} not found")
    if row["code_id"] is None:
        if version is not None:
            raise NotFoundError(f"workflow {workflow_id} has no version {version}")
        raise NotFoundError(
            f"workflow {workflow_id} has not been deployed yet; deploy or build it first"
        )
    return StartContext(**row)


def execution_model(row: DictRow, *, settings: Settings) -> Execution:
    """The execution with the link to its run in the Temporal Web UI."""
    url = None
    if row.get("temporal_workflow_id") and row.get("temporal_run_id"):
        url = (
            f"{settings.temporal_ui_url.rstrip('/')}/namespaces/"
            f"{settings.temporal_namespace}/workflows/"
            f"{row['temporal_workflow_id']}/{row['temporal_run_id']}/history"
        )
    return Execution.model_validate({**row, "temporal_ui_url": url})


async def get_execution_row(conn: AsyncConnection[DictRow], execution_id: uuid.UUID) -> DictRow:
    row = await (await conn.execute(sql("executions_get"), {"id": execution_id})).fetchone()
    if row is None:
        raise NotFoundError(f"execution {execution_id} not found")
    return row


async def list_execution_rows(
    conn: AsyncConnection[DictRow],
    *,
    workflow_id: uuid.UUID | None,
    project_id: uuid.UUID | None,
    status: ExecutionStatus | None,
    limit: int,
) -> list[DictRow]:
    cur = await conn.execute(
        sql("executions_list"),
        {"workflow_id": workflow_id, "project_id": project_id, "status": status, "limit": limit},
    )
    return await cur.fetchall()
