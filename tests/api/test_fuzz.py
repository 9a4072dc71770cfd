"""Every operation of the OpenAPI schema, fed generated input (valid and not), as a signed-in
user of the live stack: no answer is a 5xx, and none carries a stack trace.

A short run here (a few examples per operation, the same each time); ``make fuzz`` runs it
with ``RUNLOOM_FUZZ_EXAMPLES=500`` and random examples.

Ids in paths: a generated UUID is replaced by the id of the user's own project, workflow
or execution of that name, so that the handlers behind the 404s run too; anything else
(not a UUID) stays, for the parsing of paths.
"""

from __future__ import annotations

import os
import re
import uuid
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.slow

_EXAMPLES = os.environ.get("RUNLOOM_FUZZ_EXAMPLES")
EXAMPLES = int(_EXAMPLES or "12")
# What a stack trace looks like in any language runloom's stack speaks.
TRACE = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|\bat [\w.$]+\(")

GRAPH = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "shape", "type": "transform", "config": {"output": {"n": "{{ input.n }}"}}},
        {"id": "end", "type": "end", "config": {"output": "{{ steps.shape }}"}},
    ],
    "edges": [{"source": "start", "target": "shape"}, {"source": "shape", "target": "end"}],
}


@pytest.fixture(scope="module")
def fuzz_user(live_server: str) -> dict[str, str]:
    """A user with a project, a deployed workflow and one run: ids for the paths."""
    with httpx.Client(base_url=live_server, timeout=60) as client:
        email = f"fuzz{uuid.uuid4().hex[:10]}@example.test"
        session = _ok(
            client.post("/api/auth/signup", json={"email": email, "password": "pw-fuzz-1234"})
        )
        client.headers["Authorization"] = f"Bearer {session['access_token']}"
        project = _ok(client.post("/api/projects", json={"name": "fuzzed"}))["project"]
        body = {"project_id": project["id"], "name": "fuzzed", "graph": GRAPH}
        workflow = _ok(client.post("/api/workflows", json=body))["workflow"]
        run = _ok(client.post(f"/api/workflows/{workflow['id']}/build", json={"input": {"n": 1}}))
        return {
            "token": session["access_token"],
            "project_id": project["id"],
            "workflow_id": workflow["id"],
            "execution_id": run["execution_id"],
        }


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, (response.status_code, response.text)
    return response.json()


def _own_ids(case: Any, user: dict[str, str]) -> None:
    for name, value in (case.path_parameters or {}).items():
        if name in user and _is_uuid(value):
            case.path_parameters[name] = user[name]


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _cases(operation: Any) -> st.SearchStrategy[Any]:
    """Valid input, and input that breaks the schema (where it can be broken)."""
    modes = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
    return st.one_of(*(operation.as_strategy(generation_mode=mode) for mode in modes))


def _fuzz(operation: Any, *, base_url: str, user: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {user['token']}"}

    @given(case=_cases(operation))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=_EXAMPLES is None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case: Any) -> None:
        _own_ids(case, user)
        response = case.call(base_url=base_url, headers=headers, timeout=60)
        where = f"{case.method} {case.formatted_path} -> {response.status_code}"
        assert response.status_code < 500, (
            f"{where}: {response.text[:2000]}\n{case.as_curl_command()}"
        )
        assert not TRACE.search(response.text), (
            f"{where} shows a stack trace: {response.text[:2000]}"
        )

    call()


def test_no_server_error_and_no_stack_trace(live_server: str, fuzz_user: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_url(f"{live_server}/openapi.json", timeout=30)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        try:
            _fuzz(operation, base_url=live_server, user=fuzz_user)
        except AssertionError as failure:
            failures.append(f"{operation.label}: {failure}")
    assert operations > 20, "the schema lists fewer operations than runloom has"
    assert not failures, "\n\n".join(failures)
