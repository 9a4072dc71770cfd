"""A run Temporal does not have is recorded as lost; a namespace it does not find (for a
moment) is not a lost run. Both errors are NOT_FOUND: told apart by their details."""

from __future__ import annotations

import uuid

import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from runloom.manager.tracker import _namespace_missing


async def _not_found(client: Client) -> RPCError:
    with pytest.raises(RPCError) as caught:
        await client.get_workflow_handle(f"never-{uuid.uuid4()}").describe()
    assert caught.value.status == RPCStatusCode.NOT_FOUND
    return caught.value


async def test_a_missing_run_is_not_a_missing_namespace(temporal_client: Client) -> None:
    assert not _namespace_missing(await _not_found(temporal_client))


async def test_a_missing_namespace_is_told_apart(temporal_client: Client) -> None:
    elsewhere = Client(temporal_client.service_client, namespace=f"no-such-{uuid.uuid4().hex[:8]}")
    assert _namespace_missing(await _not_found(elsewhere))
