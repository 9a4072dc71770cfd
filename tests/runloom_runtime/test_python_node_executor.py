"""python_node with an executor installed (as a runloom worker does) and without one."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from runloom_runtime import python_node


class FakeExecutor:
    def __init__(self, reply: Mapping[str, Any]) -> None:
        self.reply = reply
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, **kwargs: Any) -> Mapping[str, Any]:
        self.calls.append(kwargs)
        return self.reply


@pytest.fixture
def executor() -> Iterator[FakeExecutor]:
    fake = FakeExecutor({"ok": True, "output": {"n": 1}, "logs": ""})
    python_node.set_executor(fake)
    try:
        yield fake
    finally:
        python_node.set_executor(None)


async def test_calls_go_to_the_executor_with_everything_it_needs(executor: FakeExecutor) -> None:
    result = await python_node.run(
        "return 1", {"input": {"a": 1}, "index": 2}, node_id="n", secrets={"K": "v"}
    )
    assert result == {"output": {"n": 1}, "attempt": None}  # no logs key when there are none
    assert executor.calls == [
        {
            "code": "return 1",
            "node_id": "n",
            "args": {"input": {"a": 1}, "steps": None, "item": None, "index": 2, "error": None},
            "timeout_s": None,
            "secrets": {"K": "v"},
        }
    ]


async def test_logs_are_an_extra_key(executor: FakeExecutor) -> None:
    executor.reply = {"ok": True, "output": None, "logs": "hello\n"}
    result = await python_node.run("print('hello')", {}, node_id="n")
    assert result == {"output": None, "attempt": None, "logs": "hello\n"}


@pytest.mark.parametrize(
    ("error_type", "message", "non_retryable"),
    [
        ("KeyError", "KeyError: 'sku'", False),
        ("SyntaxError", "python node 'n' does not compile: invalid syntax", True),
        ("ResultNotJson", "python node 'n' returned a value that is not JSON: x", True),
        ("TimeoutError", "python node 'n' ran longer than 5 s and was stopped", False),
    ],
)
async def test_error_replies_become_application_errors(
    executor: FakeExecutor, error_type: str, message: str, non_retryable: bool
) -> None:
    executor.reply = {
        "ok": False,
        "error_type": error_type,
        "error_message": message,
        "non_retryable": non_retryable,
        "traceback": "Traceback ...",
    }
    with pytest.raises(ApplicationError) as caught:
        await python_node.run("...", {}, node_id="n")
    assert (caught.value.message, caught.value.type) == (message, error_type)
    assert caught.value.non_retryable is non_retryable


async def test_the_executor_gets_the_time_left_of_the_activity(executor: FakeExecutor) -> None:
    env = ActivityEnvironment()
    now = datetime.now(UTC)
    env.info = dataclasses.replace(
        env.info,
        attempt=2,
        started_time=now - timedelta(seconds=4),
        start_to_close_timeout=timedelta(seconds=10),
        scheduled_time=now - timedelta(seconds=30),
        schedule_to_close_timeout=timedelta(seconds=60),
    )
    result = await env.run(python_node.run, "return 1", {}, node_id="n")
    assert result["attempt"] == 2
    # Six seconds are left; the runner stops half a second before Temporal would.
    assert 5.0 < executor.calls[0]["timeout_s"] <= 5.5


async def test_in_thread_nodes_see_secrets_as_a_read_only_mapping() -> None:
    code = "return [secrets.get('K'), type(secrets).__name__]"
    assert (await python_node.run(code, {}, node_id="s"))["output"] == [None, "mappingproxy"]
    with_secret = await python_node.run(code, {}, node_id="s", secrets={"K": "v"})
    assert with_secret["output"] == ["v", "mappingproxy"]
    # The cached function itself is untouched: the next call sees no secret.
    assert (await python_node.run(code, {}, node_id="s"))["output"][0] is None


def test_wrap_body_is_self_contained_for_the_runner() -> None:
    import ast
    import inspect

    namespace: dict[str, Any] = {}
    source = inspect.getsource(python_node.wrap_body)
    exec(f"import ast\nPARAMETERS = {python_node.PARAMETERS!r}\n{source}", namespace)  # noqa: S102
    tree = namespace["wrap_body"]("return input", "node", "<t>")
    assert isinstance(tree, ast.Module)
