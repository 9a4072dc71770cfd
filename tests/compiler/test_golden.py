"""Golden files: the generated code for one graph per node type, as committed text.

Regenerate after an intended change with ``UPDATE_GOLDEN=1 pytest tests/compiler/test_golden.py``
and review the diff like any code change.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runloom.compiler import CompileOptions, compile_workflow

from .cases import CASES

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
CHILD_TYPES = {"make-invoice": "make-invoice@v4"}


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing; run with UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case: str) -> None:
    compiled = compile_workflow(
        CASES[case],
        workflow_key="orders",
        version=3,
        options=CompileOptions(child_workflow_types=CHILD_TYPES),
    )
    _check(f"{case}.workflow.py", compiled.workflow_code)
    if compiled.activity_types:
        _check(f"{case}.activities.py", compiled.activities_code)


def test_golden_without_comments() -> None:
    compiled = compile_workflow(
        CASES["http_request"],
        workflow_key="orders",
        version=3,
        options=CompileOptions(include_comments=False),
    )
    _check("http_request.no_comments.workflow.py", compiled.workflow_code)
    assert "#" not in compiled.workflow_code
    assert '"""' not in compiled.workflow_code


def test_golden_worker_and_requirements() -> None:
    compiled = compile_workflow(CASES["start_end"], workflow_key="orders", version=3)
    _check("worker.py", compiled.worker_code)
