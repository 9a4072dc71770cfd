"""Workflows: a graph in a project, with a stable key that names its Temporal type."""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import DictRow
from psycopg.types.json import Jsonb

from runloom.errors import NotFoundError
from runloom.models import Workflow
from runloom.store.projects import get_project
from runloom.store.queries import sql

# A new workflow opens on a canvas that already runs: start wired to end.
DEFAULT_GRAPH: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start", "position": {"x": 80, "y": 160}, "config": {}},
        {"id": "end", "type": "end", "position": {"x": 480, "y": 160}, "config": {}},
    ],
    "edges": [{"source": "start", "target": "end"}],
}


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60]
    return slug or "workflow"


def _model(row: DictRow) -> Workflow:
    active = row.get("active_version")
    return Workflow.model_validate({**row, "version": int(active) if active else None})


async def list_workflows(
    conn: AsyncConnection[DictRow], *, project_id: uuid.UUID | None
) -> list[Workflow]:
    if project_id is not None:
        await get_project(conn, project_id)
    cur = await conn.execute(sql("workflows_list"), {"project_id": project_id})
    return [_model(row) for row in await cur.fetchall()]


async def get_workflow(conn: AsyncConnection[DictRow], workflow_id: uuid.UUID) -> Workflow:
    row = await (await conn.execute(sql("workflows_get"), {"id": workflow_id})).fetchone()
    if row is None:
        raise NotFoundError(f"workflow {workflow_id} not found")
    return _model(row)


async def _free_key(conn: AsyncConnection[DictRow], project_id: uuid.UUID, base: str) -> str:
    cur = await conn.execute(
        sql("workflows_keys_in_project"), {"project_id": project_id, "prefix": f"{base}%"}
    )
    taken = {row["key"] for row in await cur.fetchall()}
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, len(taken) + 3) if f"{base}-{n}" not in taken)


async def create_workflow(
    conn: AsyncConnection[DictRow],
    *,
    user_id: uuid.UUID,
    project_id: uuid.UUID,
    name: str,
    description: str | None,
    graph: dict[str, Any] | None,
) -> Workflow:
    await get_project(conn, project_id)
    workflow_id = uuid.uuid4()
    key = await _free_key(conn, project_id, slugify(name))
    await conn.execute(
        sql("workflows_insert"),
        {
            "id": workflow_id,
            "project_id": project_id,
            "name": name,
            "key": key,
            "description": description,
            "graph": Jsonb(graph if graph is not None else DEFAULT_GRAPH),
            "created_by": user_id,
        },
    )
    return await get_workflow(conn, workflow_id)


async def update_workflow(
    conn: AsyncConnection[DictRow],
    workflow_id: uuid.UUID,
    *,
    name: str | None,
    description: str | None,
    set_description: bool,
    graph: dict[str, Any] | None,
) -> Workflow:
    cur = await conn.execute(
        sql("workflows_update"),
        {
            "id": workflow_id,
            "name": name,
            "description": description,
            "set_description": set_description,
            "graph": Jsonb(graph) if graph is not None else None,
        },
    )
    if await cur.fetchone() is None:
        raise NotFoundError(f"workflow {workflow_id} not found")
    return await get_workflow(conn, workflow_id)


async def delete_workflow(conn: AsyncConnection[DictRow], workflow_id: uuid.UUID) -> None:
    if await (await conn.execute(sql("workflows_delete"), {"id": workflow_id})).fetchone() is None:
        raise NotFoundError(f"workflow {workflow_id} not found")
