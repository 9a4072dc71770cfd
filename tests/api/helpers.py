"""Waiting for runs over HTTP, the way a client of the API would."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tests.api.conftest import Api

TERMINAL = {"completed", "failed", "cancelled", "terminated", "timed_out"}


async def wait_for_end(api: Api, execution_id: str, *, within_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        execution: dict[str, Any] = (await api.ok("GET", f"/api/executions/{execution_id}"))[
            "execution"
        ]
        if execution["status"] in TERMINAL:
            return execution
        await asyncio.sleep(0.2)
    raise AssertionError(f"execution {execution_id} did not end within {within_s} s")


async def new_workflow(api: Api, project_id: str, graph: dict[str, Any], name: str = "wf") -> str:
    body = {"project_id": project_id, "name": name, "graph": graph}
    workflow: dict[str, Any] = (await api.ok("POST", "/api/workflows", 201, json=body))["workflow"]
    return str(workflow["id"])


async def new_project(api: Api, name: str) -> dict[str, Any]:
    project: dict[str, Any] = (await api.ok("POST", "/api/projects", 201, json={"name": name}))[
        "project"
    ]
    return project
