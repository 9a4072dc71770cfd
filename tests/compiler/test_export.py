"""The exported project: deterministic files, and a run of it in its own virtualenv."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import uuid
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from runloom.compiler import CompileOptions, compile_workflow
from tests.tls_proxy import Pki, TlsProxy

from .cases import CASES
from .conftest import chain

UV = Path(__file__).resolve().parents[2] / ".tools" / "bin" / "uv"


def test_same_graph_gives_byte_identical_output() -> None:
    first = compile_workflow(CASES["http_request"], workflow_key="orders", version=3)
    second = compile_workflow(CASES["http_request"], workflow_key="orders", version=3)
    assert first == second
    assert first.export_zip() == second.export_zip()


def test_options_change_the_recorded_options() -> None:
    plain = compile_workflow(CASES["python"], workflow_key="orders", version=3)
    bare = compile_workflow(
        CASES["python"],
        workflow_key="orders",
        version=3,
        options=CompileOptions(include_comments=False),
    )
    assert json.loads(plain.compiler_options_json)["options"]["include_comments"] is True
    assert json.loads(bare.compiler_options_json)["options"]["include_comments"] is False
    assert json.loads(bare.compiler_options_json)["temporalio_version"] == metadata.version(
        "temporalio"
    )


def test_requirements_pin_installed_versions() -> None:
    compiled = compile_workflow(chain(), workflow_key="orders", version=1)
    pins = [line for line in compiled.requirements_txt.splitlines() if not line.startswith("#")]
    assert pins == [
        f"{name}=={metadata.version(name)}" for name in ("temporalio", "jinja2", "httpx")
    ]


def test_export_files_and_zip() -> None:
    compiled = compile_workflow(CASES["python"], workflow_key="orders", version=3)
    files = compiled.export_files()
    assert {
        "workflow.py",
        "activities.py",
        "worker.py",
        "requirements.txt",
        "compiler_options.json",
        "README.md",
    } <= set(files)
    assert {
        "runloom_runtime/__init__.py",
        "runloom_runtime/templates.py",
        "runloom_runtime/graph.py",
    } <= set(files)
    with zipfile.ZipFile(io.BytesIO(compiled.export_zip())) as archive:
        assert sorted(archive.namelist()) == sorted(files)
        assert archive.read("workflow.py").decode() == compiled.workflow_code
    readme = files["README.md"]
    assert "pip install -r requirements.txt" in readme
    assert "python worker.py" in readme
    assert "temporal workflow start --task-queue orders --type 'orders@v3'" in readme


def _venv(folder: Path) -> Path:
    """A fresh virtualenv with nothing but requirements.txt installed."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    subprocess.run(
        [str(UV), "venv", "--quiet", "--python", sys.executable, str(folder / ".venv")],
        check=True,
        env=env,
        timeout=120,
    )
    python = folder / ".venv" / "bin" / "python"
    subprocess.run(
        [
            str(UV),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(python),
            "-r",
            str(folder / "requirements.txt"),
        ],
        check=True,
        env=env,
        timeout=300,
    )
    return python


@pytest.mark.integration
@pytest.mark.slow
async def test_exported_project_runs_in_its_own_venv(
    tmp_path: Path, temporal_env: WorkflowEnvironment, temporal_client: Client
) -> None:
    if not UV.exists():
        pytest.skip(f"uv is not at {UV}")
    doc = chain(
        {
            "id": "calc",
            "type": "python",
            "config": {
                "code": "import sys\nreturn {'sum': sum(input['xs']), 'prefix': sys.prefix, "
                "'token': secrets['EXPORT_TOKEN']}"
            },
        },
        {
            "id": "shape",
            "type": "transform",
            "config": {"output": "total={{ steps.calc.sum }} {{ secrets.EXPORT_TOKEN | length }}"},
        },
        end_output={
            "text": "{{ steps.shape }}",
            "prefix": "{{ steps.calc.prefix }}",
            "token": "{{ steps.calc.token }}",
        },
    )
    compiled = compile_workflow(doc, workflow_key="exported", version=1)
    folder = tmp_path / "project"
    with zipfile.ZipFile(io.BytesIO(compiled.export_zip())) as archive:
        archive.extractall(folder)
    python = await asyncio.to_thread(_venv, folder)
    # Nothing of runloom may leak in: only the exported runtime copy is importable.
    probe = await asyncio.to_thread(
        subprocess.run,
        [str(python), "-c", "import importlib.util as u; print(u.find_spec('runloom'))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=folder,
        timeout=60,
    )
    assert probe.stdout.strip() == "None"

    task_queue = f"export-{uuid.uuid4().hex[:8]}"
    # The exported worker reaches Temporal through mTLS, with runloom's own settings.
    pki = Pki.create(tmp_path / "pki")
    proxy = TlsProxy(
        temporal_env.client.service_client.config.target_host, pki, require_client_cert=True
    ).start()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "TEMPORAL_ADDRESS": proxy.address,
        "TEMPORAL_NAMESPACE": "default",
        "TEMPORAL_TLS_CA": str(pki.ca),
        "TEMPORAL_TLS_CERT": str(pki.client_cert),
        "TEMPORAL_TLS_KEY": str(pki.client_key),
        "TASK_QUEUE": task_queue,
        # Outside runloom, secrets come from the environment (see the export's README).
        "RUNLOOM_SECRET_EXPORT_TOKEN": "export-token-value",
    }
    worker = await asyncio.create_subprocess_exec(
        str(python),
        "worker.py",
        cwd=folder,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        assert worker.stdout is not None
        line = await asyncio.wait_for(worker.stdout.readline(), timeout=60)
        assert b"polling task queue" in line, line
        result = await temporal_client.execute_workflow(
            compiled.workflow_type,
            {"xs": [1, 2, 3]},
            id=f"export-{uuid.uuid4().hex}",
            task_queue=task_queue,
        )
    finally:
        worker.terminate()
        await worker.wait()
        proxy.stop()
    assert proxy.connections > 0  # its polls went through the proxy, over TLS
    assert result["text"] == "total=6 18"
    assert result["token"] == "***"
    # The activity ran in the exported venv, not in this test's interpreter.
    assert result["prefix"] == str(folder / ".venv")
