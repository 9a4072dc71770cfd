"""runloom.api.request_ids without a server: which ids a request gets."""

from __future__ import annotations

import uuid

from starlette.datastructures import Headers

from runloom import logs
from runloom.api.request_ids import _set_ids, request_id_of


def test_a_safe_incoming_id_is_kept_and_anything_else_replaced() -> None:
    assert request_id_of(Headers({"x-request-id": "lb-1a2b:3c.4_d-5"})) == "lb-1a2b:3c.4_d-5"
    for unsafe in ("", "two words", 'quote"d', "x" * 129, "new\\nline", "é"):
        made = request_id_of(Headers({"x-request-id": unsafe}))
        assert made != unsafe and len(made) == 32 and set(made) <= set("0123456789abcdef")
    assert request_id_of(Headers({})) != request_id_of(Headers({}))


def test_the_run_or_project_a_path_names_is_set_for_the_request_only() -> None:
    run = uuid.uuid4()
    tokens = _set_ids({"path": f"/api/executions/{str(run).upper()}/steps"}, "r1")
    try:
        assert logs.request_id.get() == "r1" and logs.run_id.get() == str(run)
        assert logs.project_id.get() is None
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)
    assert logs.request_id.get() is None and logs.run_id.get() is None

    project = uuid.uuid4()
    tokens = _set_ids({"path": f"/api/projects/{project}"}, "r2")
    try:
        assert logs.project_id.get() == str(project) and logs.run_id.get() is None
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)
    # A path that only starts like one names nothing.
    tokens = _set_ids({"path": f"/api/projects/{project}x"}, "r3")
    try:
        assert logs.project_id.get() is None
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)
