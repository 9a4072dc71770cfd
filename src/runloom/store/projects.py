"""Projects: each is one Temporal task queue, `{user_id}-{project_id}`, with one worker."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import DictRow

from runloom.errors import ConflictError, NotFoundError
from runloom.models import Project, Worker
from runloom.naming import task_queue_name
from runloom.store.queries import sql


async def ensure_default_project(conn: AsyncConnection[DictRow], *, user_id: uuid.UUID) -> None:
    project_id = uuid.uuid4()
    await conn.execute(
        sql("projects_ensure_default"),
        {
            "id": project_id,
            "created_by": user_id,
            "task_queue_name": task_queue_name(user_id=user_id, project_id=project_id),
        },
    )


async def _with_workers(conn: AsyncConnection[DictRow], rows: list[DictRow]) -> list[Project]:
    if not rows:
        return []
    cur = await conn.execute(
        sql("workers_for_projects"), {"project_ids": [row["id"] for row in rows]}
    )
    workers: dict[Any, list[Worker]] = {}
    for worker in await cur.fetchall():
        workers.setdefault(worker["project_id"], []).append(Worker.model_validate(worker))
    return [Project.model_validate({**row, "workers": workers.get(row["id"], [])}) for row in rows]


async def list_projects(conn: AsyncConnection[DictRow]) -> list[Project]:
    rows = await (await conn.execute(sql("projects_list"))).fetchall()
    return await _with_workers(conn, rows)


async def get_project(conn: AsyncConnection[DictRow], project_id: uuid.UUID) -> Project:
    row = await (await conn.execute(sql("projects_get"), {"id": project_id})).fetchone()
    if row is None:
        raise NotFoundError(f"project {project_id} not found")
    return (await _with_workers(conn, [row]))[0]


async def create_project(
    conn: AsyncConnection[DictRow], *, user_id: uuid.UUID, name: str, description: str | None
) -> Project:
    project_id = uuid.uuid4()
    cur = await conn.execute(
        sql("projects_insert"),
        {
            "id": project_id,
            "name": name,
            "description": description,
            "created_by": user_id,
            "task_queue_name": task_queue_name(user_id=user_id, project_id=project_id),
        },
    )
    if await cur.fetchone() is None:
        raise ConflictError(f"you already have a project named {name!r}; choose another name")
    return await get_project(conn, project_id)


async def update_project(
    conn: AsyncConnection[DictRow],
    project_id: uuid.UUID,
    *,
    name: str | None,
    description: str | None,
    set_description: bool,
    python_network: bool | None = None,
    failure_webhook_url: str | None = None,
    set_failure_webhook_url: bool = False,
) -> Project:
    """``set_description`` / ``set_failure_webhook_url``: write that field even when
    None (clear it); other None fields are left as they are."""
    try:
        cur = await conn.execute(
            sql("projects_update"),
            {
                "id": project_id,
                "name": name,
                "description": description,
                "set_description": set_description,
                "python_network": python_network,
                "failure_webhook_url": failure_webhook_url,
                "set_failure_webhook_url": set_failure_webhook_url,
            },
        )
    except psycopg.errors.UniqueViolation as exc:
        raise ConflictError(
            f"you already have a project named {name!r}; choose another name"
        ) from exc
    if await cur.fetchone() is None:
        raise NotFoundError(f"project {project_id} not found")
    return await get_project(conn, project_id)


@dataclass(frozen=True, slots=True)
class FailureWebhook:
    """Where a failed run of a workflow is announced (its project's setting)."""

    url: str
    workflow_name: str


async def failure_webhook(
    conn: AsyncConnection[DictRow], *, workflow_id: uuid.UUID
) -> FailureWebhook | None:
    """The failure webhook of the workflow's project, None when it has none."""
    cur = await conn.execute(sql("projects_failure_webhook"), {"workflow_id": workflow_id})
    row = await cur.fetchone()
    return None if row is None else FailureWebhook(**row)


async def delete_project(conn: AsyncConnection[DictRow], project_id: uuid.UUID) -> None:
    if await (await conn.execute(sql("projects_delete"), {"id": project_id})).fetchone() is None:
        raise NotFoundError(f"project {project_id} not found")


async def worker_history(
    conn: AsyncConnection[DictRow], project_id: uuid.UUID, *, limit: int = 20
) -> list[Worker]:
    await get_project(conn, project_id)
    cur = await conn.execute(sql("workers_history"), {"project_id": project_id, "limit": limit})
    return [Worker.model_validate(row) for row in await cur.fetchall()]
