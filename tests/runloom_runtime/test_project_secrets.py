"""Secrets at run time: where values come from, how they are redacted, and the activities
of nodes whose templates read them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from runloom_runtime import egress, project_secrets, python_node, secret_steps
from runloom_runtime.egress import EgressPolicy
from runloom_runtime.graph import GraphRun
from tests.echo_server import EchoServer

TOKEN = "tok-3f9a61c2"


@pytest.fixture
def provided() -> Iterator[dict[str, str]]:
    """Secrets served by a provider, as a worker's pipe would; change the dict to change them."""
    values = {"TOKEN": TOKEN, "SHORT": "abc"}

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


# --- redaction --------------------------------------------------------------------------


def test_redact_replaces_values_anywhere_in_json_keys_included() -> None:
    known = {"A": TOKEN, "B": "abc"}
    value = {
        "text": f"Bearer {TOKEN}, again {TOKEN}",
        TOKEN: [1, None, True, (f"x{TOKEN}",)],
        "short": "abc stays: too short to redact",
    }
    assert project_secrets.redact(value, known) == {
        "text": "Bearer ***, again ***",
        "***": [1, None, True, ["x***"]],
        "short": "abc stays: too short to redact",
    }
    assert project_secrets.redact(value, {}) is value


def test_a_secret_inside_another_is_redacted_whole() -> None:
    known = {"LONG": "secret-value-long", "PART": "value"}
    assert project_secrets.redact_text("[secret-value-long|value]", known) == "[***|***]"


def test_redacting_keeps_type_and_retry_and_drops_the_cause() -> None:
    known = {"T": TOKEN}
    with pytest.raises(ApplicationError) as caught, project_secrets.redacting(known):
        try:
            raise KeyError(TOKEN)
        except KeyError as err:
            raise ApplicationError(
                f"failed with {TOKEN}", {"body": TOKEN}, type="HttpStatusError", non_retryable=True
            ) from err
    assert caught.value.message == "failed with ***"
    assert caught.value.details == ({"body": "***"},)
    assert (caught.value.type, caught.value.non_retryable) == ("HttpStatusError", True)
    assert caught.value.__cause__ is None
    with pytest.raises(ApplicationError) as other, project_secrets.redacting(known):
        int(TOKEN)
    assert TOKEN not in other.value.message and other.value.type == "ValueError"
    assert not other.value.non_retryable


# --- where values come from -------------------------------------------------------------


async def test_without_a_provider_secrets_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RUNLOOM_SECRET_API_TOKEN", TOKEN)
    monkeypatch.setenv("RUNLOOM_SECRET_", "no name: ignored")
    current = await project_secrets.current()
    assert current["API_TOKEN"] == TOKEN
    assert "" not in current
    with pytest.raises(TypeError):
        current["X"] = "read-only"  # type: ignore[index]


async def test_a_provider_is_asked_on_every_call(provided: dict[str, str]) -> None:
    assert (await project_secrets.current())["TOKEN"] == TOKEN
    provided["TOKEN"] = "tok-changed-0001"
    assert (await project_secrets.current())["TOKEN"] == "tok-changed-0001"


# --- activities ---------------------------------------------------------------------------


async def test_transform_renders_with_secrets_and_returns_them_redacted(
    provided: dict[str, str],
) -> None:
    template = {"auth": "{{ input.user }}:{{ secrets.TOKEN }}", "short": "{{ secrets.SHORT }}"}
    result = await secret_steps.transform(
        template, {"input": {"user": "ann"}}, secrets=["TOKEN", "SHORT"]
    )
    assert result == {"output": {"auth": "ann:***", "short": "abc"}, "attempt": None}
    # Rendered with the value: its length shows through.
    length = await secret_steps.transform("{{ secrets.TOKEN | length }}", {}, secrets=["TOKEN"])
    assert length["output"] == len(TOKEN)


async def test_a_secret_missing_at_run_time_fails_without_retry(provided: dict[str, str]) -> None:
    with pytest.raises(ApplicationError) as caught:
        await secret_steps.transform("{{ secrets.GONE }}", {}, secrets=["GONE"])
    assert caught.value.type == "SecretMissing" and caught.value.non_retryable
    assert "'GONE'" in caught.value.message and "Secrets tab" in caught.value.message


async def test_a_template_error_is_redacted_and_final(provided: dict[str, str]) -> None:
    with pytest.raises(ApplicationError) as caught:
        await secret_steps.transform(
            "{{ secrets.TOKEN | map(secrets.TOKEN) | list }}", {}, secrets=["TOKEN"]
        )
    assert "No filter named '***'" in caught.value.message
    assert TOKEN not in caught.value.message
    assert caught.value.non_retryable
    assert caught.value.__cause__ is None


async def test_http_request_sends_the_secret_and_returns_it_redacted(
    provided: dict[str, str], echo: EchoServer
) -> None:
    template = {
        "method": "POST",
        "url": echo.url + "/orders/{{ input.id }}",
        "headers": {"Authorization": "Bearer {{ secrets.TOKEN }}"},
        "body": {"token": "{{ secrets.TOKEN }}"},
    }
    result = await secret_steps.http_request(template, {"input": {"id": 7}}, secrets=["TOKEN"])
    [sent] = echo.requests
    assert sent["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN in sent["body"]
    assert result["output"]["body"]["headers"]["authorization"] == "Bearer ***"
    assert TOKEN not in repr(result)


async def test_http_errors_are_redacted(provided: dict[str, str], echo: EchoServer) -> None:
    template = {"url": "http://127.0.0.1:9/{{ secrets.TOKEN }}"}
    with pytest.raises(ApplicationError) as caught:
        await secret_steps.http_request(template, {}, secrets=["TOKEN"])
    assert caught.value.type == "EgressDenied"
    assert TOKEN not in caught.value.message + repr(caught.value.details)


async def test_python_output_logs_and_errors_are_redacted() -> None:
    secrets = {"TOKEN": TOKEN}
    result = await python_node.run(
        "return {'seen': secrets['TOKEN'], secrets['TOKEN']: 1}", {}, node_id="p", secrets=secrets
    )
    assert result["output"] == {"seen": "***", "***": 1}
    with pytest.raises(ApplicationError) as caught:
        await python_node.run(
            "raise ValueError(secrets['TOKEN'])", {}, node_id="p", secrets=secrets
        )
    assert caught.value.message == "ValueError: ***"
    assert caught.value.__cause__ is None


async def test_python_through_an_executor_is_redacted_too() -> None:
    async def executor(**call: Any) -> Mapping[str, Any]:
        value = call["secrets"]["TOKEN"]
        return {"ok": True, "output": [value], "logs": f"printed {value}"}

    python_node.set_executor(executor)
    try:
        result = await python_node.run("ignored", {}, node_id="p", secrets={"TOKEN": TOKEN})
    finally:
        python_node.set_executor(None)
    assert result["output"] == ["***"] and result["logs"] == "printed ***"


def test_an_activity_rendering_secrets_gets_only_the_scope_its_templates_read() -> None:
    run = GraphRun(["a", "b"], now=lambda: datetime(2025, 1, 1, tzinfo=UTC))
    run.input = {"id": 1}
    run.steps.update(a={"x": 1}, b={"y": 2})
    assert run.narrow_scope() == {}
    assert run.narrow_scope(["input"], item=3) == {"input": {"id": 1}, "item": 3}
    assert run.narrow_scope(["steps"], steps=["b", "skipped"]) == {"steps": {"b": {"y": 2}}}
    assert run.narrow_scope(["steps"]) == {"steps": {"a": {"x": 1}, "b": {"y": 2}}}
