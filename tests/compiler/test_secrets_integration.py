"""Compiled graphs that read secrets, on the real Temporal dev server: values reach the
places they are used and appear nowhere in the run's history."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError

from runloom.compiler import CompileOptions, compile_workflow
from runloom_runtime import egress, project_secrets
from runloom_runtime.egress import EgressPolicy
from tests.echo_server import EchoServer
from tests.history import history_text

from .conftest import chain, serving, start

pytestmark = pytest.mark.integration

TOKEN = "tok-live-5d1c0a9e"


@pytest.fixture
def secrets() -> Iterator[dict[str, str]]:
    values = {"API_TOKEN": TOKEN}

    async def provider() -> Mapping[str, str]:
        return dict(values)

    project_secrets.set_provider(provider)
    try:
        yield values
    finally:
        project_secrets.set_provider(None)


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer().start()
    egress.configure(EgressPolicy(allow=(f"127.0.0.1:{server.port}",)))
    try:
        yield server
    finally:
        egress.configure(None)
        server.stop()


def _graph(url: str) -> dict[str, Any]:
    return chain(
        {
            "id": "call",
            "type": "http_request",
            "config": {
                "method": "POST",
                "url": url + "/orders/{{ input.id }}",
                "headers": {"Authorization": "Bearer {{ secrets.API_TOKEN }}"},
                "body": {"id": "{{ input.id }}"},
            },
            "retry": {"maximum_attempts": 1},
        },
        {
            "id": "code",
            "type": "python",
            "config": {"code": "return 'got ' + secrets['API_TOKEN']"},
        },
        {"id": "sign", "type": "transform", "config": {"output": "{{ secrets.API_TOKEN[:4] }}"}},
        end_output={
            "seen": "{{ steps.call.body.headers.authorization }}",
            "code": "{{ steps.code }}",
            "sign": "{{ steps.sign }}",
        },
    )


async def test_a_secret_is_used_where_named_and_recorded_nowhere(
    temporal_client: Client, secrets: dict[str, str], echo: EchoServer
) -> None:
    compiled = compile_workflow(
        _graph(echo.url),
        workflow_key="secret",
        version=1,
        options=CompileOptions(secret_names=frozenset(secrets)),
    )
    for code in (compiled.workflow_code, compiled.activities_code, compiled.worker_code):
        assert TOKEN not in code
    async with serving(temporal_client, compiled) as tq:
        first = await start(temporal_client, compiled, tq, {"id": 7})
        assert await first.result() == {"seen": "Bearer ***", "code": "got ***", "sign": "tok-"}
        secrets["API_TOKEN"] = "tok-changed-77e1"
        second = await start(temporal_client, compiled, tq, {"id": 8})
        await second.result()
    assert [r["headers"]["authorization"] for r in echo.requests] == [
        f"Bearer {TOKEN}",
        "Bearer tok-changed-77e1",
    ]
    for handle in (first, second):
        history = await history_text(temporal_client, handle.id)
        assert "Bearer ***" in history
        assert TOKEN not in history and "tok-changed-77e1" not in history


async def test_a_secret_in_an_error_is_redacted_in_the_history(
    temporal_client: Client, secrets: dict[str, str]
) -> None:
    compiled = compile_workflow(
        chain(
            {
                "id": "boom",
                "type": "python",
                "config": {"code": "raise ValueError('bad token ' + secrets['API_TOKEN'])"},
            }
        ),
        workflow_key="secret-error",
        version=1,
        options=CompileOptions(secret_names=frozenset(secrets)),
    )
    async with serving(temporal_client, compiled) as tq:
        handle = await start(temporal_client, compiled, tq)
        with pytest.raises(WorkflowFailureError) as caught:
            await handle.result()
    assert "bad token ***" in str(caught.value.cause)
    history = await history_text(temporal_client, handle.id)
    assert "bad token ***" in history and TOKEN not in history
