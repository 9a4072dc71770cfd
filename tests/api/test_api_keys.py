"""API keys: a key acts as its owner, limited to its project when it has one; revoked or
expired keys answer 401; keys never come back after creation; keys cannot make keys."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.api.conftest import Api, SignUp
from tests.api.graphs import transform_graph
from tests.api.helpers import new_project, new_workflow, wait_for_end


async def _key(api: Api, **body: Any) -> dict[str, Any]:
    created: dict[str, Any] = await api.ok(
        "POST", "/api/api-keys", 201, json={"name": "ci", **body}
    )
    return created


def _as_key(api: Api, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=api.client.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    )


async def test_a_key_starts_a_run_then_is_refused_once_revoked(sign_up: SignUp) -> None:
    api = await sign_up()
    project = await new_project(api, "keys")
    wid = await new_workflow(api, project["id"], transform_graph(2))
    await api.ok("POST", f"/api/workflows/{wid}/deploy", 201)
    created = await _key(api)
    key = created["key"]
    assert key.startswith("rl_") and created["prefix"] == key[3:11]
    async with _as_key(api, key) as client:
        run = await client.post(f"/api/workflows/{wid}/executions", json={"input": {"n": 2}})
        assert run.status_code == 201, run.text
        execution = await wait_for_end(api, run.json()["execution"]["id"])
        assert execution["output"] == {"result": 5}  # n * 2 + 1
        assert (await client.post("/api/api-keys", json={"name": "x"})).status_code == 403

        listed = (await api.ok("GET", "/api/api-keys"))["api_keys"]
        assert [k["id"] for k in listed] == [created["id"]]
        assert listed[0]["last_used_at"] is not None
        assert "key" not in listed[0] and "key_hash" not in listed[0]
        assert created["key"] not in str(listed)

        await api.ok("DELETE", f"/api/api-keys/{created['id']}", 204)
        refused = await client.get("/api/projects")
        assert refused.status_code == 401
        assert "revoked" in refused.json()["detail"]
        assert (await api.ok("GET", "/api/api-keys"))["api_keys"] == []


async def test_a_project_key_sees_only_its_project(sign_up: SignUp) -> None:
    api = await sign_up()
    mine = await new_project(api, "scoped")
    other = await new_project(api, "other")
    other_wid = await new_workflow(api, other["id"], transform_graph(2))
    mine_wid = await new_workflow(api, mine["id"], transform_graph(2))
    created = await _key(api, project_id=mine["id"])
    assert created["project_id"] == mine["id"]
    async with _as_key(api, created["key"]) as client:
        listed = (await client.get("/api/projects")).json()["projects"]
        assert [p["id"] for p in listed] == [mine["id"]]
        assert (await client.get(f"/api/projects/{mine['id']}")).status_code == 200
        assert (await client.get(f"/api/projects/{other['id']}")).status_code == 404
        assert (await client.get(f"/api/workflows/{mine_wid}")).status_code == 200
        assert (await client.get(f"/api/workflows/{other_wid}")).status_code == 404
        started = await client.post(f"/api/workflows/{other_wid}/executions", json={})
        assert started.status_code == 404
        moved = await client.post(
            "/api/workflows",
            json={"project_id": other["id"], "name": "sneak", "graph": transform_graph(1)},
        )
        assert moved.status_code == 404, moved.text
        assert (await client.post("/api/projects", json={"name": "new"})).status_code == 403


async def test_keys_are_private_and_project_must_be_owned(sign_up: SignUp) -> None:
    me, stranger = await sign_up(), await sign_up()
    created = await _key(me)
    assert (await stranger.ok("GET", "/api/api-keys"))["api_keys"] == []
    assert (await stranger.delete(f"/api/api-keys/{created['id']}")).status_code == 404
    assert len((await me.ok("GET", "/api/api-keys"))["api_keys"]) == 1
    their_project = await new_project(stranger, "theirs")
    refused = await me.post("/api/api-keys", json={"name": "x", "project_id": their_project["id"]})
    assert refused.status_code == 404
    assert (await me.delete(f"/api/api-keys/{uuid.uuid4()}")).status_code == 404


async def test_expired_and_malformed_keys_are_refused(sign_up: SignUp) -> None:
    api = await sign_up()
    soon = datetime.now(UTC) + timedelta(seconds=2)
    created = await _key(api, expires_at=soon.isoformat())
    async with _as_key(api, created["key"]) as client:
        assert (await client.get("/api/projects")).status_code == 200
        await asyncio.sleep(2.5)
        expired = await client.get("/api/projects")
        assert expired.status_code == 401
        assert "expired" in expired.json()["detail"]
    for bad in ("rl_short", "rl_" + "A" * 43):
        async with _as_key(api, bad) as client:
            refused = await client.get("/api/projects")
            assert refused.status_code == 401, bad
