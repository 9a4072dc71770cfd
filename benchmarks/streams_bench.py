"""Live streams at scale: 500 open streams on one API process cost the database nothing
while their runs wait, a sign-in still answers quickly, and a node's change reaches every
stream of its run in milliseconds."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid

import httpx
import psycopg

from benchmarks.graphs import approval_graph

USERS = 10
STREAMS_PER_USER = 50  # the default RUNLOOM_STREAMS_PER_USER
IDLE_S = 5.0
# The one statement a live stream runs (on open, and when its run ends).
STREAM_QUERY = "SELECT * FROM public.workflow_executions WHERE id = $1"


def _calls(admin_url: str) -> tuple[int, int]:
    """Calls of the stream's statement, and of every statement, in the runloom database."""
    with psycopg.connect(admin_url) as conn:
        rows = conn.execute(
            "SELECT query, calls FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'runloom')"
        ).fetchall()
    stream = sum(int(c) for q, c in rows if " ".join(str(q).split()) == STREAM_QUERY)
    return stream, sum(int(c) for _, c in rows)


async def _user(http: httpx.AsyncClient) -> tuple[dict[str, str], str, str]:
    email = f"streams-{uuid.uuid4().hex[:8]}@example.test"
    session = (
        await http.post("/api/auth/signup", json={"email": email, "password": "benchmark!"})
    ).json()
    headers = {"Authorization": f"Bearer {session['access_token']}"}
    project = (await http.post("/api/projects", json={"name": "streams"}, headers=headers)).json()
    body = {"project_id": project["project"]["id"], "name": "wait", "graph": approval_graph()}
    workflow = (await http.post("/api/workflows", json=body, headers=headers)).json()["workflow"]
    build = (
        await http.post(f"/api/workflows/{workflow['id']}/build", json={}, headers=headers)
    ).json()
    return headers, build["execution_id"], email


async def _follow(
    http: httpx.AsyncClient,
    execution_id: str,
    headers: dict[str, str],
    opened: asyncio.Event,
    approved: list[float],
) -> None:
    async with http.stream("GET", f"/api/executions/{execution_id}/events", headers=headers) as r:
        async for line in r.aiter_lines():
            if not line.startswith("data: "):
                continue
            opened.set()
            states = json.loads(line.removeprefix("data: ")).get("node_states", {})
            if states.get("approve", {}).get("status") == "completed":
                approved.append(time.perf_counter())
                return


async def _sign_ins(http: httpx.AsyncClient, email: str) -> list[float]:
    times = []
    for _ in range(20):
        began = time.perf_counter()
        response = await http.post(
            "/api/auth/login", json={"email": email, "password": "benchmark!"}
        )
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.text
    return times


async def bench_streams(url: str, admin_url: str) -> dict[str, float]:
    limits = httpx.Limits(max_connections=USERS * STREAMS_PER_USER + 50)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        users = [await _user(http) for _ in range(USERS)]
        quiet_sign_ins = await _sign_ins(http, users[0][2])
        followers: list[asyncio.Task[None]] = []
        openings: list[asyncio.Event] = []
        approved: dict[str, list[float]] = {execution: [] for _, execution, _ in users}
        for headers, execution_id, _ in users:
            for _ in range(STREAMS_PER_USER):
                opened = asyncio.Event()
                openings.append(opened)
                followers.append(
                    asyncio.create_task(
                        _follow(http, execution_id, headers, opened, approved[execution_id])
                    )
                )
        await asyncio.gather(*(o.wait() for o in openings))
        before = await asyncio.to_thread(_calls, admin_url)
        await asyncio.sleep(IDLE_S)
        after = await asyncio.to_thread(_calls, admin_url)
        sign_ins = []
        email = users[0][2]
        for _ in range(20):
            began = time.perf_counter()
            response = await http.post(
                "/api/auth/login", json={"email": email, "password": "benchmark!"}
            )
            sign_ins.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, response.text
        headers, execution_id, _ = users[0]
        signalled = time.perf_counter()
        await http.post(
            f"/api/executions/{execution_id}/signal", json={"name": "go"}, headers=headers
        )
        await asyncio.gather(*followers[:STREAMS_PER_USER])
        push_ms = [(t - signalled) * 1000 for t in approved[execution_id]]
        for task in followers[STREAMS_PER_USER:]:
            task.cancel()
        await asyncio.gather(*followers, return_exceptions=True)
        for headers, execution_id, _ in users[1:]:
            await http.post(f"/api/executions/{execution_id}/cancel", headers=headers)
    return {
        "live_streams_open": float(len(followers)),
        "live_stream_queries_while_idle": float(after[0] - before[0]),
        "all_queries_per_s_while_streams_idle": (after[1] - before[1]) / IDLE_S,
        "sign_in_ms_p50_no_streams": statistics.median(quiet_sign_ins),
        "sign_in_ms_p50_with_500_streams": statistics.median(sign_ins),
        "sign_in_ms_max_with_500_streams": max(sign_ins),
        "node_change_to_50_streams_ms_p50": statistics.median(push_ms),
        "node_change_to_50_streams_ms_max": max(push_ms),
    }
