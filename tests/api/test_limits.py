"""Rate limits and quotas over HTTP, on an API built in this process with small limits.

The app shares the session's Postgres and Temporal with the live stack, whose manager
runs the workers and tracks the runs; requests go through httpx's ASGI transport (never
leave the process), which lets a test choose the client address a request comes from.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from runloom.api.app import create_app
from runloom.settings import Settings
from tests.api.conftest import Api
from tests.api.helpers import new_project, new_workflow, wait_for_end
from tests.factory import approval_graph, chain
from tests.live import TEST_JWT_SECRET

PASSWORD = "correct horse battery"
Connect = Callable[..., httpx.AsyncClient]
Limited = Callable[..., Any]


@pytest.fixture
def limited_api(database_url: str, temporal_env: WorkflowEnvironment, live_server: str) -> Limited:
    """``async with limited_api(RUNLOOM_X=..) as connect``: ``connect(ip)`` is a client."""

    @asynccontextmanager
    async def start(**limits: int) -> AsyncIterator[Connect]:
        values: dict[str, Any] = {name.lower(): value for name, value in limits.items()}
        settings = Settings(
            _env_file=None,
            database_url=database_url,
            temporal_address=temporal_env.client.service_client.config.target_host,
            runloom_jwt_secret=TEST_JWT_SECRET,
            **values,
        )
        app = create_app(settings, database_url=database_url)
        clients: list[httpx.AsyncClient] = []

        def connect(ip: str = "127.0.0.1") -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app, client=(ip, 50000))
            client = httpx.AsyncClient(transport=transport, base_url="http://runloom.test")
            clients.append(client)
            return client

        async with app.router.lifespan_context(app):
            try:
                yield connect
            finally:
                for client in clients:
                    await client.aclose()

    return start


async def _sign_up(connect: Connect, ip: str = "127.0.0.1") -> Api:
    client = connect(ip)
    email = f"u{uuid.uuid4().hex[:10]}@example.test"
    response = await client.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    session = response.json()
    client.headers["Authorization"] = f"Bearer {session['access_token']}"
    return Api(client, email=email, user_id=session["user"]["id"])


def _retry_after(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    return int(response.headers["Retry-After"])


async def test_a_burst_of_sign_ins_from_one_ip_gets_429_with_retry_after(
    limited_api: Limited,
) -> None:
    async with limited_api(RUNLOOM_RATE_AUTH_PER_MINUTE=3) as connect:
        api = await _sign_up(connect)  # the first of 3
        body = {"email": api.email, "password": PASSWORD}
        for _ in range(2):
            assert (await connect().post("/api/auth/login", json=body)).status_code == 200
        refused = await connect().post("/api/auth/login", json=body)
        assert 1 <= _retry_after(refused) <= 20  # a token every 20 s
        detail = refused.json()["detail"]
        assert detail.startswith("too many sign-up and sign-in attempts from 127.0.0.1")
        assert "(RUNLOOM_RATE_AUTH_PER_MINUTE)" in detail
        assert f"retry in {refused.headers['Retry-After']} s" in detail
        assert 0 < refused.json()["retry_after_s"] <= 20
        # Sign-ups from that address are refused too; another address has its own budget.
        other = {"email": "x" + api.email, "password": PASSWORD}
        assert (await connect().post("/api/auth/signup", json=other)).status_code == 429
        assert (await connect("127.0.0.2").post("/api/auth/login", json=body)).status_code == 200
        # A body that does not validate costs nothing (and hashes nothing).
        junk = await connect("127.0.0.3").post("/api/auth/login", json={"email": "nope"})
        assert junk.status_code == 422


async def test_sign_ins_for_one_email_are_limited_across_addresses(
    limited_api: Limited,
) -> None:
    async with limited_api(RUNLOOM_RATE_AUTH_EMAIL_PER_MINUTE=2) as connect:
        api = await _sign_up(connect, "127.0.0.4")
        wrong = {"email": api.email, "password": "not the password"}
        assert (await connect("127.0.0.5").post("/api/auth/login", json=wrong)).status_code == 401
        refused = await connect("127.0.0.6").post("/api/auth/login", json=wrong)
        assert 1 <= _retry_after(refused) <= 30
        assert f"for {api.email}" in refused.json()["detail"]
        assert "RUNLOOM_RATE_AUTH_EMAIL_PER_MINUTE" in refused.json()["detail"]


async def test_a_user_with_quota_n_projects_cannot_create_one_more(
    limited_api: Limited,
) -> None:
    async with limited_api(RUNLOOM_QUOTA_PROJECTS=3) as connect:
        api = await _sign_up(connect)  # with its default project
        await new_project(api, "two")
        await new_project(api, "three")
        refused = await api.post("/api/projects", json={"name": "four"})
        assert refused.status_code == 403, refused.text
        body = refused.json()
        assert (body["quota"], body["setting"], body["limit"]) == (
            "projects",
            "RUNLOOM_QUOTA_PROJECTS",
            3,
        )
        assert "you have 3 projects" in body["detail"]
        assert "RUNLOOM_QUOTA_PROJECTS=3" in body["detail"]
        assert len((await api.ok("GET", "/api/projects"))["projects"]) == 3
        # Deleting one makes room again.
        two = next(
            p for p in (await api.ok("GET", "/api/projects"))["projects"] if p["name"] == "two"
        )
        await api.ok("DELETE", f"/api/projects/{two['id']}", 204)
        await new_project(api, "four")


async def _workflow(api: Api, graph: dict[str, Any], project: str = "runs") -> str:
    return await new_workflow(api, (await new_project(api, project))["id"], graph)


ECHO = chain({"id": "echo", "type": "transform", "config": {"output": "{{ input }}"}})


async def test_starts_over_the_per_user_rate_get_429(limited_api: Limited) -> None:
    async with limited_api(
        RUNLOOM_RATE_STARTS_PER_MINUTE=1, RUNLOOM_RATE_STARTS_BURST=2
    ) as connect:
        api = await _sign_up(connect)
        wid = await _workflow(api, ECHO)
        built = await api.ok("POST", f"/api/workflows/{wid}/build", 201, json={"input": {}})
        await api.ok("POST", f"/api/workflows/{wid}/executions", 201, json={"input": {}})
        for path in (f"/api/workflows/{wid}/executions", f"/api/workflows/{wid}/build"):
            refused = await api.post(path, json={"input": {}})
            assert 1 <= _retry_after(refused) <= 60
            assert refused.json()["detail"].startswith("too many run starts by you")
            assert "RUNLOOM_RATE_STARTS_PER_MINUTE" in refused.json()["detail"]
        assert (await wait_for_end(api, built["execution_id"]))["status"] == "completed"
        # The budget is the user's: someone else starts as usual.
        other = await _sign_up(connect)
        other_wid = await _workflow(other, ECHO)
        await other.ok("POST", f"/api/workflows/{other_wid}/build", 201, json={"input": {}})


async def test_open_runs_over_the_quota_are_refused_until_one_ends(
    limited_api: Limited,
) -> None:
    async with limited_api(RUNLOOM_QUOTA_OPEN_RUNS=1) as connect:
        api = await _sign_up(connect)
        wid = await _workflow(api, approval_graph("done"))
        first = await api.ok("POST", f"/api/workflows/{wid}/build", 201, json={})
        refused = await api.post(f"/api/workflows/{wid}/executions", json={})
        assert refused.status_code == 403, refused.text
        assert refused.json()["setting"] == "RUNLOOM_QUOTA_OPEN_RUNS"
        assert "you have 1 runs that have not ended" in refused.json()["detail"]
        await api.ok(
            "POST",
            f"/api/executions/{first['execution_id']}/signal",
            202,
            json={"name": "go", "payload": "ok"},
        )
        assert (await wait_for_end(api, first["execution_id"]))["output"] == "done ok"
        second = await api.ok("POST", f"/api/workflows/{wid}/executions", 201, json={})
        await api.ok("POST", f"/api/executions/{second['execution']['id']}/cancel", 202)


async def test_a_second_project_worker_over_the_quota_is_refused(limited_api: Limited) -> None:
    async with limited_api(RUNLOOM_QUOTA_WORKERS=1) as connect:
        api = await _sign_up(connect)
        first = await _workflow(api, ECHO, "first")
        await api.ok("POST", f"/api/workflows/{first}/build", 201, json={"input": {}})
        second = await _workflow(api, ECHO, "second")
        refused = await api.post(f"/api/workflows/{second}/build", json={"input": {}})
        assert refused.status_code == 403, refused.text
        assert (refused.json()["quota"], refused.json()["setting"]) == (
            "workers",
            "RUNLOOM_QUOTA_WORKERS",
        )
        project_id = (await api.ok("GET", f"/api/workflows/{second}"))["workflow"]["project_id"]
        start = await api.post(f"/api/projects/{project_id}/workers/start")
        assert start.status_code == 403 and "RUNLOOM_QUOTA_WORKERS=1" in start.json()["detail"]
        # The project that has the worker keeps it.
        await api.ok("POST", f"/api/workflows/{first}/executions", 201, json={"input": {}})


EACH = chain(
    {
        "id": "each",
        "type": "for_each",
        "config": {
            "items": "input.xs",
            # Twice each item: the input may fit where the node's output does not.
            "step": {
                "type": "transform",
                "config": {"output": {"a": "{{ item }}", "b": "{{ item }}"}},
            },
        },
    },
    output="{{ steps.each }}",
)


async def test_for_each_items_and_output_bytes_are_compiled_from_the_settings(
    limited_api: Limited,
) -> None:
    async with limited_api(
        RUNLOOM_QUOTA_FOR_EACH_ITEMS=3, RUNLOOM_QUOTA_STEP_OUTPUT_KB=1
    ) as connect:
        api = await _sign_up(connect)
        wid = await _workflow(api, EACH)
        fits = await api.ok(
            "POST", f"/api/workflows/{wid}/build", 201, json={"input": {"xs": [1, 2, 3]}}
        )
        assert len((await wait_for_end(api, fits["execution_id"]))["output"]) == 3
        over = {
            "RUNLOOM_QUOTA_FOR_EACH_ITEMS": [1, 2, 3, 4],
            "RUNLOOM_QUOTA_STEP_OUTPUT_KB": ["x" * 400] * 2,  # 0.8 KiB in, 1.6 KiB out
        }
        for setting, xs in over.items():
            started = await api.ok(
                "POST", f"/api/workflows/{wid}/executions", 201, json={"input": {"xs": xs}}
            )
            ended = await wait_for_end(api, started["execution"]["id"])
            assert ended["status"] == "failed", ended
            assert ended["node_states"]["start"]["status"] == "completed", ended
            assert setting in ended["node_states"]["each"]["error"], ended
