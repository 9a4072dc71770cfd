"""Requests to worker managers: what travels over NOTIFY, and the older versions a manager
keeps loaded because someone asked to start them."""

from __future__ import annotations

import uuid

import pytest

from runloom.manager.handles import WantedVersions
from runloom.services.worker_requests import ControlRequest


def test_a_request_names_the_version_it_needs() -> None:
    project = uuid.uuid4()
    for request in (
        ControlRequest(action="ensure", project_id=project),
        ControlRequest(action="ensure", project_id=project, workflow_type="orders@v1"),
        ControlRequest(action="stop", project_id=project),
    ):
        assert ControlRequest.decode(request.encode()) == request
    with pytest.raises(ValueError, match="workflow_type"):
        ControlRequest.decode(
            f'{{"action": "ensure", "project_id": "{project}", "workflow_type": 1}}'
        )
    with pytest.raises(ValueError, match="unknown worker request action"):
        ControlRequest.decode(f'{{"action": "drop", "project_id": "{project}"}}')


def test_wanted_versions_keep_the_last_few_per_project() -> None:
    wanted = WantedVersions()
    mine, other = uuid.uuid4(), uuid.uuid4()
    wanted.add(mine, None)
    assert wanted.of(mine) == set()
    for n in range(1, 12):
        wanted.add(mine, f"orders@v{n}")
    wanted.add(mine, "orders@v4")  # asked again: the newest once more
    assert len(wanted.of(mine)) == WantedVersions.KEEP
    assert "orders@v4" in wanted.of(mine) and "orders@v3" not in wanted.of(mine)
    assert wanted.of(other) == set()
