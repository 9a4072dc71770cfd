"""Live streams are opened with a short-lived, single-use ticket, never with the login
token in the URL (where proxies and access logs keep it)."""

from __future__ import annotations

import uuid

import httpx

from runloom.db.pool import Pool
from runloom.db.session import service_session
from tests.api.conftest import Api, SignUp
from tests.factory import make_project, make_workflow, record_execution

GRAPH = {
    "nodes": [{"id": "start", "type": "start"}, {"id": "end", "type": "end"}],
    "edges": [{"source": "start", "target": "end"}],
}


async def _ended_execution(pool: Pool, api: Api) -> str:
    project = await make_project(pool, user_id=uuid.UUID(api.user_id))
    workflow_id = await make_workflow(pool, project, GRAPH)
    execution_id = await record_execution(
        pool,
        project,
        workflow_id,
        version=1,
        temporal_workflow_id=f"t-{uuid.uuid4().hex}",
        status="completed",
    )
    return str(execution_id)


async def _ticket(api: Api, execution_id: str) -> str:
    body = await api.ok("POST", f"/api/executions/{execution_id}/stream-ticket")
    assert body["expires_in_s"] == 30
    ticket: str = body["ticket"]
    return ticket


async def _open(live_server: str, path: str) -> httpx.Response:
    # No Authorization header: what EventSource sends.
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as anonymous:
        return await anonymous.get(path)


async def test_a_ticket_opens_its_stream_once(
    sign_up: SignUp, pool: Pool, live_server: str
) -> None:
    api = await sign_up()
    execution_id = await _ended_execution(pool, api)
    ticket = await _ticket(api, execution_id)
    first = await _open(live_server, f"/api/executions/{execution_id}/events?ticket={ticket}")
    assert first.status_code == 200, first.text
    assert "event: execution" in first.text and "event: end" in first.text
    again = await _open(live_server, f"/api/executions/{execution_id}/events?ticket={ticket}")
    assert again.status_code == 401, again.text


async def test_an_expired_ticket_is_refused(sign_up: SignUp, pool: Pool, live_server: str) -> None:
    api = await sign_up()
    execution_id = await _ended_execution(pool, api)
    ticket = await _ticket(api, execution_id)
    async with service_session(pool) as conn:
        await conn.execute(
            "UPDATE public.stream_tickets SET expires_at = now() - interval '1 second' "
            "WHERE execution_id = %s",
            (uuid.UUID(execution_id),),
        )
    response = await _open(live_server, f"/api/executions/{execution_id}/events?ticket={ticket}")
    assert response.status_code == 401, response.text
    assert "expired" in response.json()["detail"]


async def test_a_ticket_opens_no_other_execution(
    sign_up: SignUp, pool: Pool, live_server: str
) -> None:
    api = await sign_up()
    mine, other = await _ended_execution(pool, api), await _ended_execution(pool, api)
    ticket = await _ticket(api, mine)
    response = await _open(live_server, f"/api/executions/{other}/events?ticket={ticket}")
    assert response.status_code == 401, response.text
    # Nor can a ticket be had for someone else's execution.
    stranger = await sign_up()
    refused = await stranger.post(f"/api/executions/{mine}/stream-ticket")
    assert refused.status_code == 404, refused.text


async def test_the_login_token_in_the_url_is_refused(
    sign_up: SignUp, pool: Pool, live_server: str
) -> None:
    api = await sign_up()
    execution_id = await _ended_execution(pool, api)
    token = api.client.headers["Authorization"].removeprefix("Bearer ")
    response = await _open(
        live_server, f"/api/executions/{execution_id}/events?access_token={token}"
    )
    assert response.status_code == 401, response.text
    assert "ticket" in response.json()["detail"]
    # Neither a made-up ticket nor none at all.
    made_up = await _open(live_server, f"/api/executions/{execution_id}/events?ticket=nope")
    assert made_up.status_code == 401
    assert (await _open(live_server, f"/api/executions/{execution_id}/events")).status_code == 401
    # The header still works for programs that can send one.
    with_header = await api.get(f"/api/executions/{execution_id}/events")
    assert with_header.status_code == 200
