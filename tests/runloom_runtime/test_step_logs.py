"""Logs and tracebacks of python nodes, per call: in a thread of this process (exports,
tests) and from an isolated runner's reply; and the outputs the runtime leaves in the
run's memo for the steps that ran in workflow code."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from runloom_runtime import graph, python_node, step_logs, step_memo


async def test_print_and_logging_are_captured_per_call_in_thread() -> None:
    code = (
        "import logging, sys\n"
        "print('hello', input)\n"
        "logging.getLogger('orders').warning('low stock')\n"
        "sys.stderr.write('to stderr\\n')\n"
        "return 'done'"
    )
    result = await python_node.run(code, {"input": 7}, node_id="calc")
    assert result == {
        "output": "done",
        "attempt": None,
        "logs": "hello 7\nWARNING orders: low stock\nto stderr\n",
    }
    assert "logs" not in await python_node.run("return 1", {}, node_id="quiet")


async def test_concurrent_calls_keep_their_own_logs() -> None:
    code = (
        "import time\nfor i in range(5):\n    print(input, i)\n    time.sleep(0.01)\nreturn input"
    )
    results = await asyncio.gather(
        *(python_node.run(code, {"input": name}, node_id="c") for name in ("a", "b", "c"))
    )
    for name, result in zip("abc", results, strict=True):
        assert result["logs"] == "".join(f"{name} {i}\n" for i in range(5))


async def test_output_outside_a_call_passes_through(capsys: pytest.CaptureFixture[str]) -> None:
    await python_node.run("print('inside')\nreturn 1", {}, node_id="n")
    print("outside")
    assert capsys.readouterr().out == "outside\n"
    assert step_logs._handler not in logging.getLogger().handlers  # only while calls run


async def test_logs_are_bounded_with_what_was_dropped() -> None:
    code = "for i in range(10000):\n    print('x' * 19)\nreturn 1"
    result = await python_node.run(code, {}, node_id="loud")
    dropped = 10000 * 20 - step_logs.MAX_LOG_CHARS
    assert result["logs"].endswith(step_logs.cut_marker(dropped))
    assert len(result["logs"]) == step_logs.MAX_LOG_CHARS + len(step_logs.cut_marker(dropped))


async def test_an_error_carries_the_logs_and_a_traceback_of_user_frames_only() -> None:
    code = "def total(xs):\n    return xs['missing']\nprint('about to add')\nreturn total({})"
    with pytest.raises(ApplicationError) as caught:
        await python_node.run(code, {}, node_id="add")
    error = caught.value
    assert (error.type, error.message) == ("KeyError", "KeyError: 'missing'")
    [details] = error.details
    assert details["logs"] == "about to add\n"
    assert details["traceback"] == [
        "Traceback (most recent call last):",
        "  File \"<python node 'add'>\", line 4, in node",
        "    return total({})",
        "  File \"<python node 'add'>\", line 2, in total",
        "    return xs['missing']",
        "KeyError: 'missing'",
    ]
    assert not any("runloom" in line for line in details["traceback"])


async def test_secrets_are_redacted_from_logs_and_tracebacks() -> None:
    code = "print('token', secrets['TOKEN'])\nraise ValueError(secrets['TOKEN'])"
    with pytest.raises(ApplicationError) as caught:
        await python_node.run(code, {}, node_id="s", secrets={"TOKEN": "tok-123456"})
    [details] = caught.value.details
    assert details["logs"] == "token ***\n"
    assert details["traceback"][-1] == "ValueError: ***"
    assert "tok-123456" not in repr(caught.value.details) + caught.value.message


class FailingExecutor:
    async def __call__(self, **_: Any) -> Mapping[str, Any]:
        return {
            "ok": False,
            "error_type": "ZeroDivisionError",
            "error_message": "ZeroDivisionError: division by zero",
            "non_retryable": False,
            "traceback": "Traceback (most recent call last):\n"
            "  File \"<python node 'n'>\", line 1, in node\nZeroDivisionError: division by zero\n",
            "logs": "dividing\n",
        }


@pytest.fixture
def failing_executor() -> Iterator[None]:
    python_node.set_executor(FailingExecutor())
    try:
        yield
    finally:
        python_node.set_executor(None)


@pytest.mark.usefixtures("failing_executor")
async def test_a_runner_failure_keeps_its_traceback_and_logs_in_the_details() -> None:
    with pytest.raises(ApplicationError) as caught:
        await python_node.run("return 1/0", {}, node_id="n")
    assert caught.value.details == (
        {
            "logs": "dividing\n",
            "traceback": [
                "Traceback (most recent call last):",
                "  File \"<python node 'n'>\", line 1, in node",
                "ZeroDivisionError: division by zero",
            ],
        },
    )


def test_the_capture_counts_what_it_drops() -> None:
    capture = step_logs.Capture(limit=5)
    capture.write("abc")
    capture.write("defgh\ud800")
    assert capture.text() == "abcde" + step_logs.cut_marker(4)


async def test_the_workflow_side_outputs_are_bounded_and_skip_activity_results() -> None:
    run = graph.GraphRun(["a", "b", "c", "d"], now=lambda: datetime.now(UTC))
    big = "x" * step_memo.MAX_STEP_OUTPUTS_MEMO_BYTES  # with its quotes, over the budget

    async def activity() -> Any:
        return run.record_attempt("b", {"output": {"from": "history"}, "attempt": 1})

    async def small() -> Any:
        return {"n": 1}

    async def large() -> Any:
        return big

    run.spawn("a", small)
    run.spawn("b", activity, after=[("a", None)])
    run.spawn("c", large, after=[("b", None)])
    run.spawn("d", small, after=[("c", None)])
    await run.wait()
    assert run.workflow_outputs() == {
        "outputs": {"a": {"n": 1}, "d": {"n": 1}},
        "omitted": {"c": len(big) + 2},
    }
