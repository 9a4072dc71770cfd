"""The Dockerfile and deploy/compose.yaml, checked without Docker (this machine has none).

The files are parsed; what they copy must exist, what they run must be runloom commands,
and the commands the image runs are run here, outside a container, with compose's
environment (its placeholders filled in, and its addresses replaced by this machine's
test Postgres and Temporal on loopback): `runloom migrate`, then `runloom api` answering
the image's health check, and `runloom manager` registering under its compose id.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import httpx
import psycopg
import pytest
import yaml
from temporalio.testing import WorkflowEnvironment

from runloom.cli import app as cli_app
from runloom.settings import Settings
from runloom.stack.ports import free_port
from runloom.stack.postgres import EmbeddedPostgres
from runloom.vault import generate_key

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Stage:
    base: str
    name: str | None
    workdir: str = "/"
    instructions: list[tuple[str, str]] = field(default_factory=list)


def _instructions(text: str) -> Iterator[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined."""
    logical = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not logical and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            logical += stripped[:-1] + " "
            continue
        logical += stripped
        keyword, _, rest = logical.partition(" ")
        yield keyword.upper(), rest.strip()
        logical = ""


def _stages() -> list[Stage]:
    stages: list[Stage] = []
    for keyword, rest in _instructions((ROOT / "Dockerfile").read_text()):
        if keyword == "FROM":
            words = rest.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base=words[0], name=name))
            continue
        stage = stages[-1]
        if keyword == "WORKDIR":
            stage.workdir = str(Path(stage.workdir, rest))
        stage.instructions.append((keyword, rest))
    return stages


def _last(stage: Stage, keyword: str) -> str:
    values = [rest for k, rest in stage.instructions if k == keyword]
    assert values, f"the final stage has no {keyword}"
    return values[-1]


def _exec_form(rest: str) -> list[str]:
    value = json.loads(rest)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), rest
    return value


def _copies(stage: Stage) -> list[tuple[str | None, list[str], str]]:
    """(--from stage or None, sources, destination) of each COPY."""
    copies = []
    for keyword, rest in (i for i in stage.instructions if i[0] == "COPY"):
        words = shlex.split(rest)
        options = [w for w in words if w.startswith("--")]
        paths = [w for w in words if not w.startswith("--")]
        source = next((o.split("=", 1)[1] for o in options if o.startswith("--from=")), None)
        copies.append((source, paths[:-1], paths[-1]))
        assert keyword == "COPY"
    return copies


def _ignored(path: str) -> bool:
    """Whether .dockerignore keeps ``path`` (or a folder it is in) out of the context."""
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    target = PurePosixPath(path.rstrip("/"))
    candidates = [target, *list(target.parents)[:-1]]
    for pattern in patterns:
        for candidate in candidates:
            if pattern.startswith("**/"):
                if fnmatch.fnmatchcase(candidate.name, pattern[3:]):
                    return True
            elif fnmatch.fnmatchcase(str(candidate), pattern):
                return True
    return False


def test_the_dockerfile_builds_the_ui_then_a_slim_python_image_running_runloom() -> None:
    stages = _stages()
    ui, build, final = stages[0], stages[1], stages[-1]
    assert ui.base.startswith("node:20") and ui.name == "ui"
    assert build.base == final.base == "python:3.11-slim"
    ui_runs = " && ".join(rest for k, rest in ui.instructions if k == "RUN")
    assert "npm ci" in ui_runs and "npm run build" in ui_runs
    assert any("uv sync --frozen --no-dev" in rest for k, rest in build.instructions if k == "RUN")
    assert _exec_form(_last(final, "ENTRYPOINT")) == ["runloom"]
    assert _exec_form(_last(final, "CMD")) == ["api"]
    assert _last(final, "EXPOSE") == "8000"
    assert _last(final, "USER") not in ("root", "0")
    assert "/api/health" in _last(final, "HEALTHCHECK")
    assert "runloom" in _pyproject_scripts()


def test_every_copy_names_what_exists_and_what_the_ui_stage_builds() -> None:
    stages = {s.name: s for s in _stages() if s.name}
    vite = (ROOT / "ui" / "vite.config.ts").read_text()
    out_dir = re.search(r'new URL\("([^"]+)", import\.meta\.url\)', vite)
    assert out_dir is not None, "ui/vite.config.ts names its outDir"
    ui = stages["ui"]
    built = str(Path(ui.workdir, out_dir.group(1)).resolve())
    checked = 0
    for stage in _stages():
        for source, paths, _ in _copies(stage):
            for path in paths:
                if source is None:
                    assert (ROOT / path).exists(), f"COPY {path}: no such path in the repository"
                    assert not _ignored(path), f"COPY {path}: excluded by .dockerignore"
                elif source == "ui":
                    assert path.rstrip("/") == built, f"{path} is not where vite writes"
                else:
                    assert source in stages, f"COPY --from={source}: no such stage"
                checked += 1
    assert checked >= 6
    # What must stay out of the build context, and what the UI build recreates.
    assert _ignored(".venv") and _ignored("ui/node_modules") and _ignored("src/runloom/static")


def _pyproject_scripts() -> str:
    text = (ROOT / "pyproject.toml").read_text()
    section = text.split("[project.scripts]", 1)[1].split("\n[", 1)[0]
    return section


def _compose() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    assert isinstance(document, dict)
    return document


def _runloom_services(command: str) -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in _compose()["services"].items()
        if service.get("image", "").startswith("runloom") and service.get("command") == [command]
    }


def _cli_commands() -> set[str]:
    return {c.name for c in cli_app.registered_commands if c.name}


def test_compose_runs_postgres_temporal_migrations_two_apis_and_two_managers() -> None:
    services = _compose()["services"]
    assert {"postgres", "temporal", "temporal-ui", "migrate"} <= set(services)
    assert services["temporal"]["image"].startswith("temporalio/auto-setup:")
    assert services["temporal"]["environment"]["DB"].startswith("postgres")
    assert services["temporal-ui"]["image"].startswith("temporalio/ui:")
    build = services["migrate"]["build"]
    assert (ROOT / "deploy" / build["context"] / build["dockerfile"]).resolve() == (
        ROOT / "Dockerfile"
    )
    apis, managers = _runloom_services("api"), _runloom_services("manager")
    assert len(apis) == 2 and len(managers) == 2
    ids = {m["environment"]["RUNLOOM_MANAGER_ID"] for m in managers.values()}
    assert len(ids) == 2, "each manager has an id of its own"
    for name, service in services.items():
        if not service.get("image", "").startswith("runloom"):
            continue
        (command,) = service["command"]
        assert command in _cli_commands(), f"{name}: `runloom {command}` does not exist"
        env = service["environment"]
        assert env["RUNLOOM_ENV"] == "production"
        for required in ("DATABASE_URL", "TEMPORAL_ADDRESS", "RUNLOOM_JWT_SECRET"):
            assert required in env, f"{name} lacks {required}"
        unknown = {k for k in env if k.lower() not in Settings.model_fields}
        assert not unknown, f"{name}: settings runloom does not have: {unknown}"
        if command != "migrate":
            assert service["depends_on"]["migrate"]["condition"] == (
                "service_completed_successfully"
            )
    for manager in managers.values():
        assert "RUNLOOM_SECRETS_KEY" in manager["environment"]
        assert "seccomp=unconfined" in manager["security_opt"]
        assert not manager.get("privileged"), "the sandbox needs user namespaces, not privileges"


_PLACEHOLDER = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")


def _substituted(value: str, variables: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        default = re.match(r"\$\{\w+:-([^}]*)\}", match.group(0))
        if name in variables:
            return variables[name]
        assert default is not None, f"{name} must be set"
        return default.group(1)

    return _PLACEHOLDER.sub(one, value)


def _image_env() -> dict[str, str]:
    """The final stage's ENV (its values, as the image would set them)."""
    env: dict[str, str] = {}
    for keyword, rest in _stages()[-1].instructions:
        if keyword == "ENV":
            for pair in shlex.split(rest):
                name, _, value = pair.partition("=")
                if name != "PATH":
                    env[name] = value
    return env


@pytest.fixture
def compose_env(
    postgres_server: EmbeddedPostgres,
    temporal_env: WorkflowEnvironment,
    tmp_path: Path,
) -> dict[str, dict[str, str]]:
    """Each runloom service's environment as its container would see it, placed on this
    machine: the test Postgres and Temporal, loopback, a free port, a temporary data dir."""
    variables = {
        "POSTGRES_PASSWORD": "not-used-here",
        "RUNLOOM_JWT_SECRET": "packaging-test-secret-" + "p" * 32,
        "RUNLOOM_SECRETS_KEY": generate_key(),
    }
    here = {
        "DATABASE_URL": postgres_server.create_database(f"pkg_{uuid.uuid4().hex[:8]}"),
        "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "RUNLOOM_HOST": "127.0.0.1",
        "RUNLOOM_PORT": str(free_port()),
        "RUNLOOM_DATA_DIR": str(tmp_path / "data"),
    }
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    envs = {}
    for name, service in _compose()["services"].items():
        if service.get("image", "").startswith("runloom"):
            env = {k: _substituted(str(v), variables) for k, v in service["environment"].items()}
            envs[name] = {**base, **_image_env(), **env, **here}
    return envs


def _argv(service: dict[str, Any]) -> list[str]:
    """ENTRYPOINT + the service's command, with `runloom` being this venv's."""
    entrypoint = _exec_form(_last(_stages()[-1], "ENTRYPOINT"))
    executable = Path(sys.executable).parent / entrypoint[0]
    return [str(executable), *entrypoint[1:], *service["command"]]


def _healthcheck_argv(port: str) -> list[str]:
    words = _exec_form(_last(_stages()[-1], "HEALTHCHECK").split("CMD", 1)[1].strip())
    return [sys.executable if w == "python" else w.replace(":8000/", f":{port}/") for w in words]


@pytest.mark.timeout(180)
def test_the_images_commands_run_here_with_composes_environment(
    compose_env: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    services = _compose()["services"]
    migrated = subprocess.run(
        _argv(services["migrate"]),
        env=compose_env["migrate"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr

    api_name, manager_name = (
        sorted(_runloom_services("api"))[0],
        sorted(_runloom_services("manager"))[0],
    )
    manager_id = compose_env[manager_name]["RUNLOOM_MANAGER_ID"]
    processes = {}
    for name in (api_name, manager_name):
        with (tmp_path / f"{name}.log").open("wb") as log:
            processes[name] = subprocess.Popen(
                _argv(services[name]), env=compose_env[name], cwd=tmp_path, stdout=log, stderr=log
            )
    try:
        port = compose_env[api_name]["RUNLOOM_PORT"]
        deadline = time.monotonic() + 90
        healthy = registered = False
        while time.monotonic() < deadline and not (healthy and registered):
            for name, process in processes.items():
                assert process.poll() is None, (tmp_path / f"{name}.log").read_text()
            healthy = healthy or subprocess.run(_healthcheck_argv(port), timeout=10).returncode == 0
            registered = registered or _registered(compose_env[manager_name], manager_id)
            time.sleep(0.5)
        logs = {n: (tmp_path / f"{n}.log").read_text() for n in processes}
        assert healthy, f"the image's health check never passed: {logs}"
        assert registered, f"{manager_id} never registered: {logs}"
        health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=10)
        assert health.status_code == 200, health.text
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(45)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert {n: p.returncode for n, p in processes.items()} == {api_name: 0, manager_name: 0}


def _registered(env: dict[str, str], manager_id: str) -> bool:
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        row = conn.execute(
            "SELECT 1 FROM public.runloom_managers WHERE manager_id = %s", (manager_id,)
        ).fetchone()
    return row is not None
