"""Escapes tried as a tenant would, through the API of a running runloom: each python or
http node below attacks the platform, must fail with a clear error on its node, and must
leave nothing of the platform's in any run's output, while another tenant's runs go on.

The sandbox's own attack tests (tests/sandbox) cover each mechanism in detail; these
prove they are what a real run goes through.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.api.conftest import Api, SignUp
from tests.api.graphs import transform_graph
from tests.api.helpers import new_project, new_workflow, wait_for_end
from tests.live import TEST_JWT_SECRET

README = Path(__file__).resolve().parents[2] / "README.md"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def one_node(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            node,
            {"id": "end", "type": "end", "config": {"output": f"{{{{ steps.{node['id']} }}}}"}},
        ],
        "edges": [
            {"source": "start", "target": node["id"]},
            {"source": node["id"], "target": "end"},
        ],
    }


def python(code: str, *, timeout_s: float = 20) -> dict[str, Any]:
    return one_node(
        {"id": "attack", "type": "python", "config": {"code": code}, "timeout_s": timeout_s}
    )


def http(url: str) -> dict[str, Any]:
    return one_node(
        {"id": "attack", "type": "http_request", "config": {"method": "GET", "url": url}}
    )


def attacks(live_server: str, database_port: int) -> dict[str, tuple[dict[str, Any], str]]:
    """name -> (graph, a word the node's error must contain)."""
    api_port = urlsplit(live_server).port
    return {
        "read other processes' environments": (
            python(
                "import os\n"
                "found = []\n"
                "for pid in os.listdir('/proc'):\n"
                "    if pid.isdigit():\n"
                "        try:\n"
                "            found.append(open(f'/proc/{pid}/environ').read())\n"
                "        except OSError:\n"
                "            pass\n"
                "assert not any('RUNLOOM' in e or 'DATABASE' in e for e in found), found\n"
                "raise PermissionError(f'saw only {len(found)} environments, none of runloom')\n"
            ),
            "PermissionError",
        ),
        "connect to Postgres": (
            python(
                "import socket\n"
                f"socket.create_connection(('127.0.0.1', {database_port}), timeout=2)\n"
                "return 'connected'\n"
            ),
            "PermissionError",
        ),
        "read the checkout": (
            python(f"return open({str(README)!r}).read()[:100]"),
            "FileNotFoundError",
        ),
        "loop forever": (python("while True:\n    pass", timeout_s=2), "longer than"),
        "fork without end": (
            python("import os\nwhile True:\n    os.fork()"),
            "the limit is 32 processes",
        ),
        "http to the API itself": (
            http(f"http://127.0.0.1:{api_port}/api/health"),
            "may not reach",
        ),
        "http to a name for the API": (
            http(f"http://localhost:{api_port}/api/health"),
            "platform address",
        ),
        # Refused before any socket opens: nothing needs to listen there.
        "http to loopback": (http("http://127.0.0.1:9/"), "(loopback)"),
        "http to a name resolving to loopback": (http("http://localhost:9/"), "(loopback)"),
    }


async def _run(api: Api, project_id: str, name: str, graph: dict[str, Any]) -> dict[str, Any]:
    workflow_id = await new_workflow(api, project_id, graph, name=name)
    build = await api.ok("POST", f"/api/workflows/{workflow_id}/build", 201, json={"input": {}})
    return await wait_for_end(api, build["execution_id"], within_s=90)


async def test_every_escape_fails_on_its_node_while_another_tenant_runs(
    sign_up: SignUp, live_server: str, database_url: str
) -> None:
    attacker, bystander = await sign_up(), await sign_up()
    hostile = await new_project(attacker, "hostile")
    calm = await new_project(bystander, "calm")
    calm_flow = await new_workflow(bystander, calm["id"], transform_graph(), name="calm")
    await bystander.ok("POST", f"/api/workflows/{calm_flow}/deploy", 201)
    port = urlsplit(database_url).port
    assert port is not None

    async def bystander_runs() -> list[dict[str, Any]]:
        ends = []
        for n in range(6):
            run = await bystander.ok(
                "POST", f"/api/workflows/{calm_flow}/executions", 201, json={"input": {"n": n}}
            )
            ends.append(await wait_for_end(bystander, run["execution"]["id"]))
        return ends

    calm_task = asyncio.create_task(bystander_runs())
    outcomes = {}
    for i, (name, (graph, word)) in enumerate(attacks(live_server, port).items()):
        outcomes[name] = (await _run(attacker, hostile["id"], f"attack-{i}", graph), word)

    for name, (execution, word) in outcomes.items():
        assert execution["status"] == "failed", (name, execution)
        assert word in (execution["error"] or ""), (name, execution["error"])
        assert execution["node_states"]["attack"]["status"] == "failed", (name, execution)
        shown = f"{execution['output']} {execution['error']} {execution['node_states']}"
        for secret in (TEST_JWT_SECRET, "postgresql://"):
            assert secret not in shown, (name, shown)

    calm_ends = await calm_task
    assert [e["status"] for e in calm_ends] == ["completed"] * 6
    assert [e["output"] for e in calm_ends] == [{"result": n * 2 + 1} for n in range(6)]


async def test_a_python_node_that_computes_still_returns_its_value(
    sign_up: SignUp,
) -> None:
    api = await sign_up()
    project = await new_project(api, "compute")
    execution = await _run(
        api,
        project["id"],
        "compute",
        python("import math\nprint('shown with the step')\nreturn {'r': math.factorial(10)}"),
    )
    assert execution["status"] == "completed", execution
    assert execution["output"] == {"r": 3628800}


async def test_python_network_is_off_by_default_and_guarded_when_on(
    sign_up: SignUp, live_server: str
) -> None:
    api = await sign_up()
    project = await new_project(api, "networked")
    fetch_api = python(
        "import urllib.request\n"
        f"return urllib.request.urlopen('{live_server}/api/health', timeout=5).read().decode()"
    )
    off = await _run(api, project["id"], "net-off", fetch_api)
    assert off["status"] == "failed" and "Errno 1" in (off["error"] or ""), off

    changed = await api.ok("PATCH", f"/api/projects/{project['id']}", json={"python_network": True})
    assert changed["project"]["python_network"] is True
    on = await _run(api, project["id"], "net-on", fetch_api)
    # Reachable network now, but never the platform itself (nor loopback, nor private).
    assert on["status"] == "failed", on
    assert "may not reach" in (on["error"] or ""), on
