"""Generated code is code a Temporal engineer would write: every case of cases.py, laid out
as its export is (with the runloom_runtime package beside it), passes `ruff check` and
`ruff format --check` at ruff's default settings and `mypy --strict`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from runloom.compiler import CompiledWorkflow, CompileOptions, compile_workflow
from runloom.compiler.export import runtime_files

from .cases import CASES

BIN = Path(sys.executable).parent
CHILD_TYPES = {"make-invoice": "make-invoice@v4"}


def _compile(case: str, *, comments: bool = True) -> CompiledWorkflow:
    options = CompileOptions(child_workflow_types=CHILD_TYPES, include_comments=comments)
    return compile_workflow(CASES[case], workflow_key="orders", version=3, options=options)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Every case's modules in one directory (``<case>_workflow.py``, …), plus one case as
    an export names them (``workflow.py``, ``activities.py``, ``worker.py``), so that one
    mypy run checks them all and the worker's imports resolve."""
    root = tmp_path_factory.mktemp("generated")
    for path, text in runtime_files().items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    files: list[str] = []
    for case in sorted(CASES):
        for comments in (True, False):
            compiled = _compile(case, comments=comments)
            stem = case if comments else f"{case}_bare"
            files.append(f"{stem}_workflow.py")
            (root / files[-1]).write_text(compiled.workflow_code, encoding="utf-8")
            files.append(f"{stem}_activities.py")
            (root / files[-1]).write_text(compiled.activities_code, encoding="utf-8")
    export = _compile("http_secret")
    for name, text in (
        ("workflow.py", export.workflow_code),
        ("activities.py", export.activities_code),
        ("worker.py", export.worker_code),
    ):
        (root / name).write_text(text, encoding="utf-8")
        files.append(name)
    return root, files


def _run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=300, check=False)


def test_generated_code_passes_ruff_check(generated: tuple[Path, list[str]]) -> None:
    root, files = generated
    result = _run(root, str(BIN / "ruff"), "check", "--isolated", "--no-cache", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_code_is_ruff_formatted(generated: tuple[Path, list[str]]) -> None:
    root, files = generated
    result = _run(root, str(BIN / "ruff"), "format", "--isolated", "--check", "--diff", *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_code_passes_mypy_strict(generated: tuple[Path, list[str]]) -> None:
    root, files = generated
    cache = root / ".mypy_cache"
    result = _run(root, str(BIN / "mypy"), "--strict", "--cache-dir", str(cache), *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_seven_node_example_has_no_long_line() -> None:
    """Comments and docstrings aside (the formatter leaves those alone), nothing is over
    88 columns, and the imports are the sorted few the code uses."""
    compiled = _compile("parallel_join")
    for text in (compiled.workflow_code, compiled.activities_code, compiled.worker_code):
        for line in text.splitlines():
            assert len(line) <= 88 or line.lstrip().startswith(("#", '"""')), line
