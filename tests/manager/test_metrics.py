"""The manager's metrics endpoint, in process: its token, its paths, and what it serves."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any, cast

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from runloom.db.pool import Pool
from runloom.manager import metrics
from runloom.manager.handles import WorkerView
from runloom.settings import Settings
from runloom.stack.ports import free_port


async def test_the_endpoint_needs_the_token_and_serves_this_managers_figures() -> None:
    port = free_port()
    settings = Settings(
        runloom_metrics_token=SecretStr("m-token"), runloom_manager_metrics_port=port
    )
    project = uuid.uuid4()
    views = [
        WorkerView(project, "w1", "running", 1, ()),
        WorkerView(uuid.uuid4(), "w2", "starting", None, ()),
    ]
    metrics.notice_result(sent=False)
    stop = asyncio.Event()
    # No worker was given a metrics port here, so the pool is never used.
    serving = asyncio.create_task(
        metrics.serve(settings, workers=lambda: views, pool=cast(Pool, None), stop=stop)
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            refused: httpx.Response | None = None
            for _ in range(200):  # until it listens
                with contextlib.suppress(httpx.ConnectError):
                    refused = await http.get("/metrics")
                    break
                await asyncio.sleep(0.05)
            assert refused is not None, "the manager's metrics endpoint never listened"
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"] == "Bearer"
            token = {"Authorization": "Bearer m-token"}
            assert (await http.get("/other", headers=token)).status_code == 404
            response = await http.get("/metrics", headers=token)
    finally:
        stop.set()
        await serving
    assert response.status_code == 200
    samples: dict[tuple[str, tuple[Any, ...]], float] = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    assert samples[("runloom_manager_workers", (("state", "running"),))] == 1
    assert samples[("runloom_manager_workers", (("state", "starting"),))] == 1
    assert samples[("runloom_failure_notices_total", (("result", "failed"),))] >= 1
