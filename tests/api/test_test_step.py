"""Template previews and "Test this step", against a running runloom: attacks first (a
hostile template, a python step reaching for the API's secrets, files and services, an
http step aimed at the platform or the cloud metadata address), then what users see."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.api.conftest import Api, SignUp
from tests.api.helpers import new_project, new_workflow
from tests.echo_server import EchoServer
from tests.live import LiveStack

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

GRAPH = {
    "nodes": [{"id": "start", "type": "start"}, {"id": "end", "type": "end"}],
    "edges": [{"source": "start", "target": "end"}],
}


async def _workflow(api: Api) -> tuple[dict[str, Any], str]:
    project = await new_project(api, "tested")
    return project, await new_workflow(api, project["id"], GRAPH)


async def _test(api: Api, workflow_id: str, node: dict[str, Any], **scope: Any) -> Any:
    body = {"node": node, "scope": scope}
    return await api.ok("POST", f"/api/workflows/{workflow_id}/test-step", json=body)


def _python(code: str, **extra: Any) -> dict[str, Any]:
    return {"id": "code", "type": "python", "config": {"code": code}, **extra}


async def _preview(api: Api, template: Any, **scope: Any) -> Any:
    return await api.post("/api/templates/preview", json={"template": template, "scope": scope})


# --- attacks --------------------------------------------------------------------------


async def test_constant_arithmetic_over_the_limits_is_refused_as_at_compile(
    sign_up: SignUp,
) -> None:
    api = await sign_up()
    started = time.monotonic()
    for template in ("{{ 3 ** (10 ** 9) }}", "x{{ 'a' * 10 ** 9 }}"):
        response = await _preview(api, template)
        assert response.status_code == 422, response.text
        assert "sandbox allows" in response.json()["detail"]
    assert time.monotonic() - started < 10


async def test_a_hostile_template_cannot_stall_the_api(sign_up: SignUp) -> None:
    api = await sign_up()
    huge = await _preview(api, "{{ input.n ** input.m }}", input={"n": 7, "m": 10**8})
    assert huge.status_code == 422 and "sandbox allows" in huge.json()["detail"]
    spin = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    slow = asyncio.create_task(_preview(api, spin))
    await asyncio.sleep(0.3)
    # Meanwhile the API answers others at once.
    began = time.monotonic()
    assert (await api.get("/api/health")).status_code == 200
    assert time.monotonic() - began < 1.0
    response = await slow
    assert response.status_code == 422, response.text
    assert "longer than" in response.json()["detail"]


async def test_a_preview_shows_secret_names_never_values(sign_up: SignUp) -> None:
    api = await sign_up()
    project = await new_project(api, "secretive")
    path = f"/api/projects/{project['id']}/secrets/API_TOKEN"
    await api.ok("PUT", path, json={"value": "tok-very-secret-1234"})
    response = await _preview(api, {"auth": "Bearer {{ secrets.API_TOKEN }}"})
    assert response.status_code == 200, response.text
    assert response.json() == {"value": {"auth": "Bearer «secret API_TOKEN»"}}


async def test_python_step_cannot_read_the_apis_environment_or_files(
    sign_up: SignUp, live_stack: LiveStack
) -> None:
    api = await sign_up()
    _, wid = await _workflow(api)
    data_dir = live_stack.cwd / "data"
    code = (
        "import os\n"
        "found = {'env': sorted(k for k in os.environ if 'RUNLOOM' in k or 'DATABASE' in k)}\n"
        f"for path in [{str(data_dir / 'jwt.secret')!r}, {str(data_dir / 'secrets.key')!r},"
        " '/proc/1/environ']:\n"
        "    try:\n"
        "        found[path] = open(path).read()[:20]\n"
        "    except OSError as err:\n"
        "        found[path] = type(err).__name__\n"
        "return found"
    )
    result = await _test(api, wid, _python(code))
    assert result["ok"], result
    found = result["output"]
    assert found["env"] == []
    for path, outcome in found.items():
        if path != "env":
            assert outcome in ("FileNotFoundError", "PermissionError"), (path, outcome)


async def test_python_step_cannot_reach_postgres_temporal_or_the_api(
    sign_up: SignUp, live_stack: LiveStack
) -> None:
    api = await sign_up()
    _, wid = await _workflow(api)
    database = urlsplit(live_stack.env["DATABASE_URL"])
    temporal = live_stack.env["TEMPORAL_ADDRESS"].rsplit(":", 1)
    targets = [
        ("127.0.0.1", database.port),
        (temporal[0], int(temporal[1])),
        ("127.0.0.1", live_stack.port),
    ]
    code = (
        "import socket\n"
        "outcomes = []\n"
        f"for host, port in {targets!r}:\n"
        "    try:\n"
        "        socket.create_connection((host, port), timeout=2).close()\n"
        "        outcomes.append('connected')\n"
        "    except Exception as err:\n"
        "        outcomes.append(type(err).__name__)\n"
        "return outcomes"
    )
    result = await _test(api, wid, _python(code))
    assert result["ok"], result
    assert "connected" not in result["output"], result["output"]


async def test_a_python_loop_is_stopped_by_its_timeout(sign_up: SignUp) -> None:
    api = await sign_up()
    _, wid = await _workflow(api)
    started = time.monotonic()
    result = await _test(api, wid, _python("while True:\n    pass", timeout_s=2))
    assert not result["ok"]
    assert result["error"]["type"] == "TimeoutError", result
    assert time.monotonic() - started < 20


@pytest.mark.parametrize("where", ["api", "metadata"])
async def test_an_http_step_to_the_platform_or_the_metadata_address_is_refused(
    sign_up: SignUp, live_stack: LiveStack, where: str
) -> None:
    api = await sign_up()
    _, wid = await _workflow(api)
    url = {
        "api": f"http://127.0.0.1:{live_stack.port}/api/health",
        "metadata": "http://169.254.169.254/latest/meta-data/",
    }[where]
    node = {"id": "call", "type": "http_request", "config": {"method": "GET", "url": url}}
    result = await _test(api, wid, node)
    assert not result["ok"]
    assert result["error"]["type"] == "EgressDenied", result
    # Refused at the check, before a connection: no time spent waiting on one.
    assert result["duration_ms"] < 2000


async def test_another_users_workflow_cannot_be_tested(sign_up: SignUp) -> None:
    owner, other = await sign_up(), await sign_up()
    _, wid = await _workflow(owner)
    body = {"node": _python("return 1"), "scope": {}}
    response = await other.post(f"/api/workflows/{wid}/test-step", json=body)
    assert response.status_code == 404, response.text


# --- what users see -------------------------------------------------------------------


async def test_a_preview_resolves_a_value_against_the_scope(sign_up: SignUp) -> None:
    api = await sign_up()
    scope = {"input": {"name": "Ada"}, "steps": {"fetch": {"body": {"total": 42}}}}
    one = await _preview(api, "{{ steps.fetch.body.total * 2 }}", **scope)
    assert one.json() == {"value": 84}
    text = await _preview(api, {"hi": "hello {{ input.name }}"}, **scope)
    assert text.json() == {"value": {"hi": "hello Ada"}}
    broken = await _preview(api, "{{ input.name ", **scope)
    assert broken.status_code == 422 and "invalid" in broken.json()["detail"]


async def test_a_python_step_returns_its_output_and_logs(sign_up: SignUp) -> None:
    api = await sign_up()
    _, wid = await _workflow(api)
    code = "print('doubling', input['n'])\nreturn {'double': input['n'] * 2, 'seen': steps}"
    result = await _test(api, wid, _python(code), input={"n": 21}, steps={"a": 1})
    assert result["ok"], result
    assert result["output"] == {"double": 42, "seen": {"a": 1}}
    assert result["logs"] == ["doubling 21"]
    failed = await _test(api, wid, _python("raise ValueError('no such order')"))
    assert not failed["ok"]
    assert failed["error"]["type"] == "ValueError"
    assert "no such order" in failed["error"]["message"]


async def test_a_transform_step_renders_its_output(sign_up: SignUp) -> None:
    api = await sign_up()
    _, wid = await _workflow(api)
    node = {"id": "shape", "type": "transform", "config": {"output": {"n": "{{ input.n + 1 }}"}}}
    result = await _test(api, wid, node, input={"n": 1})
    assert result == {**result, "ok": True, "output": {"n": 2}}


async def test_an_http_step_sends_with_secrets_and_redacts_them(
    sign_up: SignUp, echo: EchoServer
) -> None:
    api = await sign_up()
    project, wid = await _workflow(api)
    value = "tok-" + "x" * 24
    await api.ok("PUT", f"/api/projects/{project['id']}/secrets/API_TOKEN", json={"value": value})
    node = {
        "id": "call",
        "type": "http_request",
        "config": {
            "method": "POST",
            "url": echo.url + "/orders/{{ input.id }}",
            "headers": {"Authorization": "Bearer {{ secrets.API_TOKEN }}"},
            "body": {"id": "{{ input.id }}"},
        },
    }
    result = await _test(api, wid, node, input={"id": 7})
    assert result["ok"], result
    assert echo.requests[-1]["headers"]["authorization"] == f"Bearer {value}"
    assert echo.requests[-1]["path"] == "/orders/7"
    assert result["output"]["status"] == 200
    assert value not in str(result)


async def test_only_python_transform_and_http_steps_can_be_tested(sign_up: SignUp) -> None:
    api = await sign_up()
    _, wid = await _workflow(api)
    body = {"node": {"id": "wait", "type": "delay", "config": {"seconds": 1}}, "scope": {}}
    response = await api.post(f"/api/workflows/{wid}/test-step", json=body)
    assert response.status_code == 422
    assert "python, transform and http_request" in response.json()["detail"]
