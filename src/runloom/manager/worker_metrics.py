"""Project workers' Temporal SDK metrics, served through their manager.

When the manager serves metrics, each worker it starts is told (``Start.metrics``) a free
loopback port on which its Temporal runtime exposes Prometheus metrics; the port is
recorded in the worker's registry row (``workflow_workers.port``). At each scrape of the
manager's endpoint, the live workers' endpoints are read over loopback (a short timeout
each, all at once) and appended with a ``project_id`` label, merged family by family so
that the answer stays one valid exposition.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

import httpx
import psycopg

from runloom.db import service_session
from runloom.db.pool import Pool
from runloom.manager.handles import ManagedWorker, WorkerView
from runloom.stack.ports import free_port
from runloom.store import metrics as store

__all__ = ["record_ports", "relabel_merge", "scrape", "start_field"]

log = logging.getLogger(__name__)

SCRAPE_TIMEOUT_S = 1.0
_HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Assigned:
    project_id: UUID
    row_id: UUID
    port: int


# Per process, like the worker processes themselves: worker id -> its metrics port.
_assigned: dict[str, Assigned] = {}
_unrecorded: list[Assigned] = []
# Created by the loop that records ports, in the loop it runs on.
_wake: asyncio.Event | None = None


def start_field(handle: ManagedWorker, *, enabled: bool) -> dict[str, str] | None:
    """``Start.metrics`` for a worker about to start: where to serve its SDK metrics."""
    if not enabled:
        return None
    assigned = Assigned(handle.project_id, handle.row_id, free_port(_HOST))
    _assigned[handle.worker_id] = assigned
    _unrecorded.append(assigned)
    if _wake is not None:
        _wake.set()
    return {"prometheus_bind": f"{_HOST}:{assigned.port}"}


async def record_ports(
    pool: Pool, *, on_restart: Callable[[UUID], None], stop: asyncio.Event
) -> None:
    """Write assigned ports into the registry rows as they come, until ``stop``; a row
    that is the restart of a crashed worker counts a restart."""
    global _wake
    _wake = wake = asyncio.Event()
    wake.set()  # ports assigned before this loop started
    while not stop.is_set():
        await wake.wait()
        wake.clear()
        while _unrecorded:
            assigned = _unrecorded.pop(0)
            try:
                async with service_session(pool) as conn:
                    row = await store.record_worker_port(
                        conn, row_id=assigned.row_id, port=assigned.port
                    )
            except (psycopg.Error, OSError) as exc:
                log.warning("cannot record worker metrics port %d: %r", assigned.port, exc)
                continue
            if row is not None and row.restart:
                on_restart(row.project_id)


async def scrape(views: Sequence[WorkerView]) -> str:
    """The SDK metrics of this manager's running workers, one exposition."""
    live = {view.worker_id for view in views}
    for gone in [worker_id for worker_id in _assigned if worker_id not in live]:
        del _assigned[gone]
    targets = [
        _assigned[view.worker_id]
        for view in views
        if view.status == "running" and view.worker_id in _assigned
    ]
    if not targets:
        return ""
    async with httpx.AsyncClient(timeout=SCRAPE_TIMEOUT_S, trust_env=False) as http:
        texts = await asyncio.gather(*(_fetch(http, target.port) for target in targets))
    return relabel_merge(
        [(str(target.project_id), text) for target, text in zip(targets, texts, strict=True)]
    )


async def _fetch(http: httpx.AsyncClient, port: int) -> str:
    with contextlib.suppress(httpx.HTTPError):
        response = await http.get(f"http://{_HOST}:{port}/metrics")
        if response.status_code == 200:
            return response.text
    return ""  # a worker still starting, or one that could not bind: no figures this time


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?(\s+.*)$")


def relabel_merge(expositions: Sequence[tuple[str, str]]) -> str:
    """Prometheus text expositions ``(project_id, text)`` as one: every sample gains a
    ``project_id`` label, and each family's HELP and TYPE are written once, with the
    samples of every exposition under them."""
    headers: dict[str, list[str]] = {}
    samples: dict[str, list[str]] = {}
    for project_id, text in expositions:
        family = ""
        for line in text.splitlines():
            if line.startswith("#"):
                parts = line.split(maxsplit=3)
                if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                    family = parts[2]
                    kept = headers.setdefault(family, [])
                    if not any(h.split(maxsplit=2)[1] == parts[1] for h in kept):
                        kept.append(line)
                continue
            match = _SAMPLE.match(line)
            if match is None:
                continue
            name, labels, rest = match.groups()
            owner = family if family and name.startswith(family) else name
            label = f'project_id="{project_id}"'
            inner = labels[1:-1].strip().rstrip(",") if labels else ""
            merged = f"{{{label},{inner}}}" if inner else f"{{{label}}}"
            samples.setdefault(owner, []).append(f"{name}{merged}{rest}")
    out: list[str] = []
    for family in dict.fromkeys([*headers, *samples]):
        out += headers.get(family, [])
        out += samples.get(family, [])
    return "\n".join(out) + "\n" if out else ""
