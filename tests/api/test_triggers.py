"""Webhooks and schedules on the live stack: a webhook with its token (or a signature)
starts a run and can wait for its output; a wrong one starts nothing; a schedule on
Temporal produces tracked runs until it is paused; every run says what started it."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.service import RPCError

from tests.api.conftest import Api, SignUp
from tests.api.graphs import transform_graph
from tests.api.helpers import new_project, new_workflow, wait_for_end


async def _built(api: Api, name: str) -> str:
    project = await new_project(api, name)
    wid = await new_workflow(api, project["id"], transform_graph(2))
    build = await api.ok("POST", f"/api/workflows/{wid}/build", 201, json={"input": {"n": 1}})
    await wait_for_end(api, build["execution_id"])
    return wid


async def _runs(api: Api, wid: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = (
        await api.ok("GET", f"/api/executions?workflow_id={wid}&limit=200")
    )["executions"]
    return listed


async def _webhook(api: Api, wid: str) -> dict[str, Any]:
    created = await api.ok("POST", f"/api/workflows/{wid}/triggers", 201, json={"type": "webhook"})
    trigger: dict[str, Any] = created["trigger"]
    return trigger


async def test_a_webhook_with_its_token_runs_and_waits_for_the_output(sign_up: SignUp) -> None:
    api = await sign_up()
    wid = await _built(api, "hooks")
    trigger = await _webhook(api, wid)
    token = trigger["token"]
    assert token.startswith("rlh_") and trigger["token_prefix"] == token[:12]
    assert trigger["url"].endswith(f"/hooks/{trigger['id']}")
    async with httpx.AsyncClient(timeout=60) as caller:
        answer = await caller.post(
            trigger["url"] + "?wait=10&source=ci",
            json={"n": 20},
            headers={"Authorization": f"Bearer {token}", "X-Delivery": "d-1"},
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "completed"
    assert answer.json()["output"] == {"result": 41}  # 20 * 2 + 1
    execution = await wait_for_end(api, answer.json()["execution_id"])
    assert execution["triggered_by"] == "webhook" and execution["trigger_id"] == trigger["id"]
    webhook = execution["input"]["_webhook"]
    assert webhook["query"] == {"source": "ci"} and webhook["headers"]["x-delivery"] == "d-1"
    assert "authorization" not in webhook["headers"]
    assert token not in json.dumps(execution)
    # The token is never shown again.
    listed = (await api.ok("GET", f"/api/workflows/{wid}/triggers"))["triggers"]
    assert [t["id"] for t in listed] == [trigger["id"]] and listed[0]["token"] is None
    assert token not in json.dumps(listed)


async def test_a_signed_body_runs_without_waiting(sign_up: SignUp) -> None:
    api = await sign_up()
    wid = await _built(api, "signed")
    trigger = await _webhook(api, wid)
    body = json.dumps({"n": 3}).encode()
    signature = hmac.new(trigger["token"].encode(), body, hashlib.sha256).hexdigest()
    async with httpx.AsyncClient(timeout=60) as caller:
        answer = await caller.post(
            trigger["url"], content=body, headers={"X-Runloom-Signature": f"sha256={signature}"}
        )
        assert answer.status_code == 202, answer.text
        execution = await wait_for_end(api, answer.json()["execution_id"])
        assert execution["output"] == {"result": 7}
        forged = await caller.post(
            trigger["url"],
            content=b'{"n": 4}',
            headers={"X-Runloom-Signature": f"sha256={signature}"},
        )
    assert forged.status_code == 401 and "signature" in forged.json()["detail"]


async def test_a_wrong_or_missing_token_gets_401_and_starts_nothing(sign_up: SignUp) -> None:
    api = await sign_up()
    wid = await _built(api, "refused")
    trigger = await _webhook(api, wid)
    other = await _webhook(api, wid)
    before = len(await _runs(api, wid))
    async with httpx.AsyncClient(timeout=30) as caller:
        for headers in (
            {},
            {"Authorization": "Bearer rlh_wrong"},
            {"Authorization": f"Bearer {other['token']}"},  # another trigger's token
            {"X-Runloom-Signature": "sha256=00"},
            {"Authorization": f"Basic {trigger['token']}"},
        ):
            answer = await caller.post(trigger["url"], json={"n": 1}, headers=headers)
            assert answer.status_code == 401, (headers, answer.text)
        # A caller with the token but not JSON is told what to fix, and starts nothing.
        bad = await caller.post(
            trigger["url"],
            content=b"{not json",
            headers={"Authorization": f"Bearer {trigger['token']}"},
        )
        assert bad.status_code == 422 and "JSON" in bad.json()["detail"]
        # Paused: refused until resumed.
        await api.ok("PATCH", f"/api/triggers/{trigger['id']}", json={"enabled": False})
        paused = await caller.post(
            trigger["url"], json={}, headers={"Authorization": f"Bearer {trigger['token']}"}
        )
        assert paused.status_code == 409 and "paused" in paused.json()["detail"]
    assert len(await _runs(api, wid)) == before


async def test_another_user_cannot_see_or_change_triggers(sign_up: SignUp) -> None:
    owner, stranger = await sign_up(), await sign_up()
    wid = await _built(owner, "private")
    trigger = await _webhook(owner, wid)
    assert (await stranger.get(f"/api/workflows/{wid}/triggers")).status_code == 404
    patched = await stranger.patch(f"/api/triggers/{trigger['id']}", json={"enabled": False})
    assert patched.status_code == 404
    assert (await stranger.delete(f"/api/triggers/{trigger['id']}")).status_code == 404
    created = await stranger.post(f"/api/workflows/{wid}/triggers", json={"type": "webhook"})
    assert created.status_code == 404
    listed = (await owner.ok("GET", f"/api/workflows/{wid}/triggers"))["triggers"]
    assert listed[0]["enabled"] is True


async def test_schedule_descriptions_and_their_errors(sign_up: SignUp) -> None:
    api = await sign_up()
    described = await api.ok(
        "POST", "/api/schedules/describe", json={"cron": "*/5 * * * *", "timezone": "Europe/Berlin"}
    )
    assert "5 minutes" in described["description"]
    times = described["next_runs"]
    assert len(times) == 5 and times == sorted(times)
    assert all(t.endswith("+01:00") for t in times)  # Berlin in December
    every = await api.ok("POST", "/api/schedules/describe", json={"interval_s": 90})
    assert every["description"] == "Every 90 seconds"
    for body, fix in (
        ({"cron": "61 * * * *"}, "range"),
        ({"cron": "* * *"}, "five fields"),
        ({"cron": "* * * * *", "interval_s": 5}, "not both"),
        ({"cron": "* * * * *", "timezone": "Mars/Olympus"}, "IANA"),
    ):
        answer = await api.post("/api/schedules/describe", json=body)
        assert answer.status_code == 422 and fix in answer.json()["detail"], answer.text


async def _completed_scheduled(api: Api, wid: str) -> list[dict[str, Any]]:
    return [
        r
        for r in await _runs(api, wid)
        if r["triggered_by"] == "schedule" and r["status"] == "completed"
    ]


async def test_a_schedule_runs_on_temporal_until_paused(
    sign_up: SignUp, temporal_client: Client
) -> None:
    api = await sign_up()
    wid = await _built(api, "scheduled")
    created = await api.ok(
        "POST",
        f"/api/workflows/{wid}/triggers",
        201,
        json={"type": "schedule", "interval_s": 2, "input": {"n": 5}},
    )
    trigger = created["trigger"]
    assert trigger["description"] == "Every 2 seconds" and len(trigger["next_runs"]) == 5
    started = time.monotonic()
    while len(await _completed_scheduled(api, wid)) < 2:
        assert time.monotonic() - started < 7, await _runs(api, wid)
        await asyncio.sleep(0.25)
    run = (await _completed_scheduled(api, wid))[0]
    assert run["output"] == {"result": 11} and run["trigger_id"] == trigger["id"]
    assert run["input"]["_schedule"]["trigger_id"] == trigger["id"]
    assert run["node_states"]["end"]["status"] == "completed"

    paused = await api.ok("PATCH", f"/api/triggers/{trigger['id']}", json={"enabled": False})
    assert paused["trigger"]["enabled"] is False and paused["trigger"]["next_runs"] == []
    schedule = temporal_client.get_schedule_handle(f"runloom-trigger-{trigger['id']}")
    assert (await schedule.describe()).schedule.state.paused
    # A fire that was under way when the pause came may still finish; then nothing more.
    for r in await _runs(api, wid):
        await wait_for_end(api, r["id"])
    settled = len(await _runs(api, wid))
    await asyncio.sleep(5)  # two and a half intervals of a running schedule
    assert len(await _runs(api, wid)) == settled

    # Deleting the workflow deletes its Temporal schedule.
    await api.ok("DELETE", f"/api/workflows/{wid}", 204)
    try:
        await schedule.describe()
        raise AssertionError("the schedule outlived its workflow")
    except RPCError as exc:
        assert "not found" in str(exc).lower()


async def test_run_now_and_retiming_a_schedule(sign_up: SignUp) -> None:
    api = await sign_up()
    wid = await _built(api, "run-now")
    created = await api.ok(
        "POST",
        f"/api/workflows/{wid}/triggers",
        201,
        json={"type": "schedule", "cron": "0 0 1 1 *", "timezone": "UTC", "input": {"n": 7}},
    )
    trigger = created["trigger"]
    assert trigger["next_runs"][0].startswith(f"{time.gmtime().tm_year + 1}-01-01T00:00:00")
    await api.ok("POST", f"/api/triggers/{trigger['id']}/run", 202)
    started = time.monotonic()
    while not await _completed_scheduled(api, wid):
        assert time.monotonic() - started < 30
        await asyncio.sleep(0.25)
    assert (await _completed_scheduled(api, wid))[0]["output"] == {"result": 15}

    retimed = await api.ok(
        "PATCH", f"/api/triggers/{trigger['id']}", json={"interval_s": 3600, "overlap": "allow_all"}
    )
    assert retimed["trigger"]["cron"] is None and retimed["trigger"]["interval_s"] == 3600
    assert retimed["trigger"]["description"] == "Every hour"
    bad = await api.patch(f"/api/triggers/{trigger['id']}", json={"cron": "nope"})
    assert bad.status_code == 422
    # The refused change left the schedule as it was.
    listed = (await api.ok("GET", f"/api/workflows/{wid}/triggers"))["triggers"]
    assert listed[0]["interval_s"] == 3600
    await api.ok("DELETE", f"/api/triggers/{trigger['id']}", 204)
    assert (await api.ok("GET", f"/api/workflows/{wid}/triggers"))["triggers"] == []


async def test_runs_say_what_started_them(sign_up: SignUp) -> None:
    api = await sign_up()
    wid = await _built(api, "origins")
    key = (await api.ok("POST", "/api/api-keys", 201, json={"name": "ci"}))["key"]
    async with httpx.AsyncClient(
        base_url=str(api.client.base_url), headers={"Authorization": f"Bearer {key}"}
    ) as program:
        started = await program.post(f"/api/workflows/{wid}/executions", json={"input": {"n": 1}})
    assert started.status_code == 201, started.text
    assert started.json()["execution"]["triggered_by"] == "api"
    runs = await _runs(api, wid)
    assert {r["triggered_by"] for r in runs} == {"manual", "api"}
    assert all(r["trigger_id"] is None for r in runs)
