"""The files of a standalone project: the compiled modules plus a copy of the runtime."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Protocol

import runloom_runtime

__all__ = ["RUNTIME_REQUIREMENTS", "readme", "requirements", "runtime_files", "zip_files"]

# What generated code and the runtime import, besides the standard library.
RUNTIME_REQUIREMENTS = ("temporalio", "jinja2", "httpx")

# Zip entries carry this time so that the same files give the same archive bytes.
_EPOCH = (1980, 1, 1, 0, 0, 0)


def requirements(*, workflow_type: str) -> str:
    lines = [f"# Requirements of {workflow_type}, pinned to the versions it was compiled with."]
    lines += [f"{name}=={metadata.version(name)}" for name in RUNTIME_REQUIREMENTS]
    return "\n".join(lines) + "\n"


def runtime_files() -> dict[str, str]:
    """Source of the runloom_runtime package, keyed by its path inside the export."""
    root = Path(runloom_runtime.__file__).parent
    files = {
        f"runloom_runtime/{path.name}": path.read_text(encoding="utf-8")
        for path in sorted(root.glob("*.py"))
    }
    files["runloom_runtime/py.typed"] = ""
    return files


def readme(*, workflow_key: str, workflow_type: str) -> str:
    return f"""# {workflow_type}

Workflow `{workflow_key}`, compiled by runloom into a standalone Temporal project.

| file | what it is |
|---|---|
| `workflow.py` | the workflow (Temporal type `{workflow_type}`) |
| `activities.py` | one activity per HTTP / Python node |
| `worker.py` | a worker that serves both |
| `runloom_runtime/` | templates, node bookkeeping and activity implementations |
| `compiler_options.json` | how this code was compiled |

## Install

```sh
python3.11 -m venv .venv
.venv/bin/pip install -r requirements.txt
```

## Run the worker

```sh
TEMPORAL_ADDRESS=localhost:7233 TEMPORAL_NAMESPACE=default TASK_QUEUE={workflow_key} \\
    .venv/bin/python worker.py
```

For a secured cluster or Temporal Cloud, set what runloom itself reads: `TEMPORAL_TLS_CA`,
`TEMPORAL_TLS_SERVER_NAME`, `TEMPORAL_TLS_CERT` and `TEMPORAL_TLS_KEY` (PEM files) for TLS
and mTLS, `TEMPORAL_API_KEY` for an API key; any of them turns TLS on (`TEMPORAL_TLS=0`
keeps it off, `TEMPORAL_TLS=1` turns it on with the system's roots).

## Start a run

```sh
temporal workflow start --task-queue {workflow_key} --type '{workflow_type}' \\
    --workflow-id {workflow_key}-1 --input '{{}}'
temporal workflow result --workflow-id {workflow_key}-1
temporal workflow query --workflow-id {workflow_key}-1 --type node_states
```

`wait_for_signal` nodes resume on `temporal workflow signal --workflow-id ... --name <signal>
--input '<json>'`. A `child_workflow` node starts another workflow type on the same task
queue: run that workflow's worker on the same queue too.

## Secrets

Nodes that read project secrets (`{{{{ secrets.NAME }}}}` in templates, `secrets["NAME"]` in
python code) name them only: no value is in this project. The worker takes each from an
environment variable `RUNLOOM_SECRET_<NAME>`, read afresh by every activity that needs
secrets, and redacts the values (`***`) from what those activities return or raise:

```sh
RUNLOOM_SECRET_API_TOKEN=... .venv/bin/python worker.py
```
"""


class GeneratedCode(Protocol):
    """The five generated files of a version, as compiled or as stored."""

    @property
    def workflow_code(self) -> str: ...
    @property
    def activities_code(self) -> str: ...
    @property
    def worker_code(self) -> str: ...
    @property
    def requirements_txt(self) -> str: ...
    @property
    def compiler_options_json(self) -> str: ...


def project_files(code: GeneratedCode, *, workflow_key: str, workflow_type: str) -> dict[str, str]:
    """The standalone project of one version (path -> text), ready for :func:`zip_files`."""
    files = {
        "workflow.py": code.workflow_code,
        "activities.py": code.activities_code,
        "worker.py": code.worker_code,
        "requirements.txt": code.requirements_txt,
        "compiler_options.json": code.compiler_options_json,
    }
    files["README.md"] = readme(workflow_key=workflow_key, workflow_type=workflow_type)
    files.update(runtime_files())
    return files


def zip_files(files: Mapping[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name].encode("utf-8"))
    return buffer.getvalue()
