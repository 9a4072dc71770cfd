"""Project workers: cold Build → result, a new version reaching a running worker, and
memory (PSS) per additional active project, against a running stack (`runloom up`).

Each measure signs up a user of its own. Cold: a fresh project per sample, so no worker
runs when Build is pressed (the sample's worker is stopped afterwards). New version: the
graph of a project whose worker runs is edited, then built. Memory: the proportional set
size of every worker process (and of the zygote that forked them, if any) after one
project, then after N more; the difference divided by N is what one more active project
costs. Worker processes are found through the API's worker view (their pids), and the
zygote as their parent.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from typing import Any

import httpx
import psutil

from benchmarks.session import check, sign_up, wait_recorded
from runloom.worker.memory import pss_mb

ADDITIONAL_PROJECTS = 10
_POLL_S = 0.005


def _graph(label: str) -> dict[str, Any]:
    """The smallest useful workflow: one transform, its output the result."""
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "shape", "type": "transform", "config": {"output": {"label": label}}},
            {"id": "end", "type": "end", "config": {"output": "{{ steps.shape }}"}},
        ],
        "edges": [{"source": "start", "target": "shape"}, {"source": "shape", "target": "end"}],
    }


def _spread(samples: list[float]) -> dict[str, Any]:
    return {
        "median_ms": round(statistics.median(samples), 1),
        "min_ms": round(min(samples), 1),
        "max_ms": round(max(samples), 1),
        "samples_ms": [round(s, 1) for s in samples],
    }


async def _project(http: httpx.AsyncClient, headers: dict[str, str], name: str) -> tuple[str, str]:
    """A new project with one workflow, never built; (project id, workflow id)."""
    body = {"name": f"{name}-{uuid.uuid4().hex[:6]}"}
    project = check(await http.post("/api/projects", json=body, headers=headers))["project"]
    made = {"project_id": project["id"], "name": name, "graph": _graph("v0")}
    workflow = check(await http.post("/api/workflows", json=made, headers=headers))["workflow"]
    return str(project["id"]), str(workflow["id"])


async def _build_to_result(
    http: httpx.AsyncClient, headers: dict[str, str], workflow_id: str
) -> float:
    """Build (compile, store, worker, start) until the API shows the result; in ms."""
    began = time.perf_counter()
    build = check(await http.post(f"/api/workflows/{workflow_id}/build", json={}, headers=headers))
    await wait_recorded(http, headers, build["execution_id"], poll_s=_POLL_S)
    return (time.perf_counter() - began) * 1000


async def _stop_worker(http: httpx.AsyncClient, headers: dict[str, str], project_id: str) -> None:
    check(await http.post(f"/api/projects/{project_id}/workers/stop", headers=headers))


async def _worker_pid(
    http: httpx.AsyncClient, headers: dict[str, str], project_id: str, *, within_s: float = 60
) -> int:
    """The pid of the project's running worker, as the API's worker view shows it."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        rows = check(await http.get(f"/api/projects/{project_id}/workers", headers=headers))
        for row in rows["workers"]:
            if row["status"] == "running" and row["process_id"]:
                return int(row["process_id"])
        await asyncio.sleep(0.1)
    raise RuntimeError(f"project {project_id} has no running worker after {within_s:.0f} s")


def _memory(pids: list[int]) -> dict[str, Any]:
    """PSS of these workers, of what they started (python runners), and of the zygotes
    among their parents, in MiB."""
    zygotes, children = set(), []
    for pid in pids:
        try:
            process = psutil.Process(pid)
            parent = process.parent()
            children += [child.pid for child in process.children(recursive=True)]
        except psutil.Error:
            continue
        if parent is not None and "runloom.worker.zygote" in " ".join(parent.cmdline()):
            zygotes.add(parent.pid)
    workers = [pss_mb(pid) or 0.0 for pid in pids]
    started = [pss_mb(pid) or 0.0 for pid in children]
    zygote = [pss_mb(pid) or 0.0 for pid in sorted(zygotes)]
    return {
        "workers_pss_mb": workers,
        "their_children_pss_mb": started,
        "zygotes_pss_mb": zygote,
        "total_pss_mb": round(sum(workers) + sum(started) + sum(zygote), 1),
        "workers_rss_mb": [round(psutil.Process(p).memory_info().rss / 2**20, 1) for p in pids],
    }


async def _cold(http: httpx.AsyncClient, repeats: int) -> tuple[dict[str, Any], list[str]]:
    headers = await sign_up(http)
    samples, projects = [], []
    for i in range(repeats):
        project_id, workflow_id = await _project(http, headers, f"cold{i}")
        samples.append(await _build_to_result(http, headers, workflow_id))
        projects.append(project_id)
        await _stop_worker(http, headers, project_id)
    return _spread(samples), projects


async def _new_version(http: httpx.AsyncClient, repeats: int) -> dict[str, Any]:
    headers = await sign_up(http)
    project_id, workflow_id = await _project(http, headers, "edited")
    await _build_to_result(http, headers, workflow_id)  # the worker runs from here on
    samples = []
    for i in range(repeats):
        body = {"graph": _graph(f"v{i + 1}")}
        check(await http.put(f"/api/workflows/{workflow_id}", json=body, headers=headers))
        samples.append(await _build_to_result(http, headers, workflow_id))
    await _stop_worker(http, headers, project_id)
    return _spread(samples)


async def _active_project(
    http: httpx.AsyncClient, headers: dict[str, str], name: str
) -> tuple[str, int]:
    """A project built and run once (its worker stays up); (project id, worker pid)."""
    project_id, workflow_id = await _project(http, headers, name)
    await _build_to_result(http, headers, workflow_id)
    return project_id, await _worker_pid(http, headers, project_id)


async def _pss(http: httpx.AsyncClient, additional: int) -> dict[str, Any]:
    headers = await sign_up(http)
    first = await _active_project(http, headers, "mem0")
    await asyncio.sleep(1.0)  # let the run's garbage settle before sampling
    one = _memory([first[1]])
    more = [await _active_project(http, headers, f"mem{i + 1}") for i in range(additional)]
    await asyncio.sleep(1.0)
    # Measured together: the first worker's PSS shrinks as siblings share its pages.
    everyone = _memory([first[1], *(pid for _, pid in more)])
    per_project = (everyone["total_pss_mb"] - one["total_pss_mb"]) / additional
    for project_id, _ in [first, *more]:
        await _stop_worker(http, headers, project_id)
    return {
        "additional_projects": additional,
        "pss_per_additional_project_mb": round(per_project, 1),
        "first_project": one,
        "all_projects": everyone,
    }


async def bench_workers(url: str, *, repeats: int = 7) -> dict[str, Any]:
    """Cold Build → result, new version → result, and PSS per additional project."""
    async with httpx.AsyncClient(base_url=url, timeout=300) as http:
        cold, _ = await _cold(http, repeats)
        new_version = await _new_version(http, repeats)
        memory = await _pss(http, ADDITIONAL_PROJECTS)
    return {"cold_build_to_result": cold, "new_version_to_result": new_version, "memory": memory}
