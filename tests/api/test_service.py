"""The service surface: OpenAPI, health that names what is down, and the CLI's user commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from runloom.stack.ports import free_port
from tests.api.graphs import transform_graph

DESIGN_ROUTES = {
    ("post", "/api/auth/signup"),
    ("post", "/api/auth/login"),
    ("get", "/api/health"),
    ("get", "/api/projects"),
    ("post", "/api/projects"),
    ("get", "/api/projects/{project_id}"),
    ("get", "/api/workflows"),
    ("post", "/api/workflows"),
    ("get", "/api/workflows/{workflow_id}"),
    ("put", "/api/workflows/{workflow_id}"),
    ("delete", "/api/workflows/{workflow_id}"),
    ("post", "/api/workflows/{workflow_id}/compile"),
    ("post", "/api/workflows/{workflow_id}/deploy"),
    ("post", "/api/workflows/{workflow_id}/build"),
    ("post", "/api/workflows/{workflow_id}/executions"),
    ("get", "/api/workflows/{workflow_id}/versions"),
    ("post", "/api/workflows/{workflow_id}/versions/{version}/activate"),
    ("get", "/api/workflows/{workflow_id}/export"),
    ("get", "/api/executions"),
    ("get", "/api/executions/{execution_id}"),
    ("get", "/api/executions/{execution_id}/events"),
    ("post", "/api/executions/{execution_id}/signal"),
    ("post", "/api/executions/{execution_id}/cancel"),
    ("get", "/api/executions/{execution_id}/steps"),
    ("get", "/api/executions/{execution_id}/steps/{node_id}/output"),
    ("get", "/api/projects/{project_id}/workers"),
    ("post", "/api/projects/{project_id}/workers/{action}"),
    ("get", "/api/projects/{project_id}/stats"),
}


async def test_openapi_documents_every_route_of_the_design(live_server: str) -> None:
    async with httpx.AsyncClient(base_url=live_server) as client:
        spec = (await client.get("/openapi.json")).json()
        docs = await client.get("/docs")
    documented = {(m, path) for path, item in spec["paths"].items() for m in item}
    assert documented >= DESIGN_ROUTES, DESIGN_ROUTES - documented
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_health_answers_503_naming_temporal_when_it_is_down(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNLOOM_", "TEMPORAL_"))}
    env.update(
        DATABASE_URL=database_url,
        TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}",  # nothing listens there
        RUNLOOM_PORT=str(port),
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "runloom.cli", "api"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the API did not start"
                time.sleep(0.1)
        assert response.status_code == 503
        body = response.json()
        assert (body["database"], body["temporal"]) == ("ok", "down")
        assert "temporal" in body["detail"]
    finally:
        process.terminate()
        process.wait(10)


def test_cli_user_commands_deploy_and_run_a_workflow(live_server: str, tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "COLUMNS": "200"}

    def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "runloom.cli", *args],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    login = cli(
        "login",
        "--url",
        live_server,
        "--signup",
        "--email",
        "cli@example.test",
        "--password",
        "a long password",
    )
    assert login.returncode == 0, login.stderr
    assert (tmp_path / "config" / "runloom" / "credentials.json").exists()
    assert "signed in" in login.stdout

    created = cli("projects", "create", "cli-project")
    assert created.returncode == 0 and "task queue" in created.stdout
    graph_file = tmp_path / "tripler.json"
    graph_file.write_text(json.dumps({"name": "tripler", "graph": transform_graph(3)}))
    deployed = cli("workflows", "deploy", str(graph_file), "--project", "cli-project")
    assert deployed.returncode == 0, deployed.stderr
    assert "tripler@v1" in deployed.stdout

    ran = cli("run", "tripler", "--input", '{"n": 2}', "--wait")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "completed" in ran.stdout and '"result": 7' in ran.stdout

    listed = cli("executions", "--workflow", "tripler")
    assert listed.returncode == 0 and "completed" in listed.stdout
    workers = cli("workers", "--project", "cli-project")
    assert workers.returncode == 0 and "running" in workers.stdout
    bad = cli("run", "tripler", "--input", "{oops")
    assert bad.returncode == 2 and "not valid JSON" in bad.stderr
