"""python_node.run routed to a real pool, as the worker wires it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.exceptions import ApplicationError

from runloom.sandbox import RunnerPool, install
from runloom_runtime import python_node


@pytest.fixture
async def installed(runners: RunnerPool) -> AsyncIterator[RunnerPool]:
    install(runners)
    try:
        yield runners
    finally:
        install(None)


async def test_python_node_runs_in_the_pool(installed: RunnerPool) -> None:
    code = "import os\nprint('in', os.uname().nodename)\nreturn input['x'] * 2"
    result = await python_node.run(code, {"input": {"x": 21}}, node_id="double")
    assert result == {"output": 42, "attempt": None, "logs": "in runloom\n"}


async def test_errors_map_as_they_always_did(installed: RunnerPool) -> None:
    with pytest.raises(ApplicationError) as caught:
        await python_node.run("raise KeyError('sku')", {}, node_id="n")
    assert (caught.value.type, caught.value.message) == ("KeyError", "KeyError: 'sku'")
    assert not caught.value.non_retryable
    with pytest.raises(ApplicationError) as caught:
        await python_node.run("return {1, 2}", {}, node_id="n")
    assert caught.value.type == "ResultNotJson" and caught.value.non_retryable
    with pytest.raises(ApplicationError) as caught:
        await python_node.run("return (", {}, node_id="n")
    assert caught.value.type == "SyntaxError" and caught.value.non_retryable


async def test_uninstalled_runs_in_thread_again(runners: RunnerPool) -> None:
    install(runners)
    install(None)
    result = await python_node.run("import socket\nreturn socket.gethostname()", {}, node_id="h")
    assert result["output"] != "runloom"
