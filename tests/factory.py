"""Rows the code store and the manager work on: users, projects, workflows, executions."""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from runloom.db.pool import Pool
from runloom.db.session import service_session


@dataclass(frozen=True)
class Project:
    id: UUID
    user_id: UUID
    task_queue: str


async def make_project(pool: Pool, *, user_id: UUID | None = None) -> Project:
    project_id = uuid.uuid4()
    async with service_session(pool) as conn:
        if user_id is None:
            user_id = uuid.uuid4()
            await conn.execute(
                "INSERT INTO public.users (id, email) VALUES (%s, %s)",
                (user_id, f"{user_id.hex[:10]}@example.test"),
            )
        task_queue = f"{user_id}-{project_id}"
        await conn.execute(
            "INSERT INTO public.projects (id, name, created_by, task_queue_name) "
            "VALUES (%s, %s, %s, %s)",
            (project_id, f"p-{project_id.hex[:8]}", user_id, task_queue),
        )
    return Project(id=project_id, user_id=user_id, task_queue=task_queue)


async def make_workflow(
    pool: Pool, project: Project, graph: dict[str, Any], *, key: str | None = None
) -> UUID:
    workflow_id = uuid.uuid4()
    async with service_session(pool) as conn:
        await conn.execute(
            "INSERT INTO public.workflows (id, name, graph, created_by, project_id, key) "
            "VALUES (%s, %s, %s::jsonb, %s, %s, %s)",
            (
                workflow_id,
                f"wf {workflow_id.hex[:6]}",
                _json(graph),
                project.user_id,
                project.id,
                key or f"wf-{workflow_id.hex[:8]}",
            ),
        )
    return workflow_id


async def set_graph(pool: Pool, workflow_id: UUID, graph: dict[str, Any]) -> None:
    async with service_session(pool) as conn:
        await conn.execute(
            "UPDATE public.workflows SET graph = %s::jsonb WHERE id = %s",
            (_json(graph), workflow_id),
        )


async def record_execution(
    pool: Pool,
    project: Project,
    workflow_id: UUID,
    *,
    version: int,
    temporal_workflow_id: str,
    status: str = "running",
) -> UUID:
    """What the API writes when it starts a run (the tracker later closes it)."""
    execution_id = uuid.uuid4()
    async with service_session(pool) as conn:
        await conn.execute(
            "INSERT INTO public.workflow_executions (id, workflow_id, status, "
            "temporal_workflow_id, temporal_run_id, code_version, project_id, task_queue_name) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                execution_id,
                workflow_id,
                status,
                temporal_workflow_id,
                uuid.uuid4().hex,
                str(version),
                project.id,
                project.task_queue,
            ),
        )
    return execution_id


async def set_execution_status(pool: Pool, execution_id: UUID, status: str) -> None:
    async with service_session(pool) as conn:
        await conn.execute(
            "UPDATE public.workflow_executions SET status = %s WHERE id = %s",
            (status, execution_id),
        )


def _json(value: Any) -> str:
    return json.dumps(value)


def chain(*nodes: dict[str, Any], output: Any = None) -> dict[str, Any]:
    """start -> nodes... -> end (whose output is ``output``)."""
    every = [
        {"id": "start", "type": "start"},
        *nodes,
        {"id": "end", "type": "end", "config": {"output": output}},
    ]
    ids = [n["id"] for n in every]
    return {
        "nodes": every,
        "edges": [{"source": a, "target": b} for a, b in itertools.pairwise(ids)],
    }


def approval_graph(label: str) -> dict[str, Any]:
    """Waits for signal ``go``, then answers ``"<label> <payload>"``."""
    return chain(
        {"id": "wait", "type": "wait_for_signal", "config": {"signal": "go", "timeout_s": 3600}},
        output=f"{label} {{{{ steps.wait }}}}",
    )
