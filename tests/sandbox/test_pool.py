"""The pool as the worker uses it: results, logs, reuse, concurrency, recovery, shutdown."""

from __future__ import annotations

import asyncio
import time

import pytest

from runloom.sandbox import (
    CallResult,
    RunnerPool,
    SandboxError,
    SandboxLimits,
    SandboxUnavailableError,
)
from runloom.sandbox import pool as pool_module
from tests.sandbox.conftest import LIMITS, call, output


async def test_a_node_computes_with_its_arguments(runners: RunnerPool) -> None:
    code = "total = sum(row['n'] for row in input['rows'])\nreturn {'total': total, 'i': index}"
    args = {"input": {"rows": [{"n": 2}, {"n": 40}]}, "steps": {}, "index": 3}
    assert await output(runners, code, args=args) == {"total": 42, "i": 3}


async def test_errors_keep_type_message_and_only_the_users_frames(runners: RunnerPool) -> None:
    code = "def check(x):\n    raise KeyError(x)\n\ncheck('sku')"
    result = await call(runners, code, node_id="price")
    assert result == CallResult(
        ok=False,
        error_type="KeyError",
        error_message="KeyError: 'sku'",
        traceback=(
            "Traceback (most recent call last):\n"
            "  File \"<python node 'price'>\", line 4, in node\n"
            "    check('sku')\n"
            "  File \"<python node 'price'>\", line 2, in check\n"
            "    raise KeyError(x)\n"
            "KeyError: 'sku'\n"
        ),
        runner_pid=result.runner_pid,
    )


@pytest.mark.parametrize(
    ("code", "error_type", "fragment"),
    [
        ("return (", "SyntaxError", "python node 'n' does not compile: '(' was never closed"),
        ("yield 1", "SyntaxError", "yield and await are not allowed"),
        ("return {1, 2}", "ResultNotJson", "python node 'n' returned a value that is not JSON"),
        ("return float('inf')", "ResultNotJson", "Out of range float"),
        ("x = []\nx.append(x)\nreturn x", "ResultNotJson", "Circular reference"),
    ],
)
async def test_what_cannot_succeed_is_not_retried(
    runners: RunnerPool, code: str, error_type: str, fragment: str
) -> None:
    result = await call(runners, code, node_id="n")
    assert (result.ok, result.error_type, result.non_retryable) == (False, error_type, True)
    assert fragment in (result.error_message or "")


async def test_print_logging_and_raw_output_are_captured_per_call(runners: RunnerPool) -> None:
    code = (
        "import logging, os, sys\n"
        "print('hello', input)\n"
        "logging.getLogger('orders').warning('low stock')\n"
        "sys.stderr.write('to stderr\\n')\n"
        "os.write(1, b'raw fd 1\\n')\n"
        "return 'done'"
    )
    result = await call(runners, code, args={"input": 7})
    assert result.ok and result.output == "done"
    assert result.logs == "hello 7\nWARNING orders: low stock\nto stderr\nraw fd 1\n"
    quiet = await call(runners, "return None")
    assert quiet.ok and quiet.logs == ""


async def test_logs_are_bounded(runners: RunnerPool) -> None:
    result = await call(runners, "for i in range(20000):\n    print('x' * 20)\nreturn 1")
    assert result.ok and result.output == 1
    assert 60 * 1024 < len(result.logs) < 70 * 1024
    # The marker says how much is missing: 20,000 lines of 21 characters, 64 KiB kept.
    assert result.logs.endswith(f"\n[log cut: {20000 * 21 - 64 * 1024} more characters dropped]")


async def test_secrets_are_a_read_only_mapping_and_redacted_from_logs(
    runners: RunnerPool,
) -> None:
    code = (
        "print('token is', secrets['TOKEN'])\n"
        "try:\n"
        "    secrets['TOKEN'] = 'x'\n"
        "except TypeError:\n"
        "    pass\n"
        "return len(secrets['TOKEN'])"
    )
    result = await call(runners, code, secrets={"TOKEN": "tok-123456"})
    assert (result.ok, result.output) == (True, 10)
    assert result.logs == "token is [redacted]\n"
    assert await output(runners, "return dict(secrets)") == {}  # nothing left behind


async def test_sequential_calls_reuse_one_warm_runner(runners: RunnerPool) -> None:
    pids = set()
    started = time.monotonic()
    for i in range(50):
        result = await call(runners, "return input + 1", args={"input": i})
        assert result.output == i + 1
        pids.add(result.runner_pid)
    assert len(pids) == 1
    assert time.monotonic() - started < 2


async def test_calls_run_concurrently_up_to_size() -> None:
    async with RunnerPool(limits=LIMITS, size=3, warm=1) as pool:
        code = "import time\ntime.sleep(0.6)\nreturn 1"
        started = time.monotonic()
        results = await asyncio.gather(*(call(pool, code) for _ in range(3)))
        three = time.monotonic() - started
        assert len({r.runner_pid for r in results}) == 3
        assert three < 1.5  # 0.6 s each, side by side (plus starting two runners)
        started = time.monotonic()
        results = await asyncio.gather(*(call(pool, code) for _ in range(4)))
        four = time.monotonic() - started
        assert all(r.ok for r in results)
        assert 1.2 <= four < 2.5  # the fourth waited for a free runner
        assert len(pool.runner_pids()) == 3


async def test_runners_are_recycled_after_a_number_of_calls() -> None:
    async with RunnerPool(limits=LIMITS, size=1, warm=1, recycle_after=3) as pool:
        pids = [(await call(pool, "return 1")).runner_pid for _ in range(6)]
    assert pids[0] == pids[1] == pids[2] != pids[3] == pids[4] == pids[5]


async def test_a_runner_that_dies_gives_a_clear_error_and_is_replaced(
    runners: RunnerPool,
) -> None:
    result = await call(runners, "import os\nos._exit(3)", node_id="quit")
    assert result.error_type == "RunnerCrashed"
    expected = "python node 'quit': its process ended unexpectedly (exit status 3)"
    assert result.error_message == expected
    assert not result.non_retryable
    killed = await call(runners, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    assert killed.error_type == "RunnerCrashed"
    assert "killed by SIGKILL; memory limit 256 MB?" in (killed.error_message or "")
    assert await output(runners, "return 'next'") == "next"


async def test_a_cancelled_call_kills_its_runner() -> None:
    async with RunnerPool(limits=LIMITS, size=1, warm=1) as pool:
        task = asyncio.create_task(call(pool, "import time\ntime.sleep(30)"))
        await asyncio.sleep(0.3)
        busy = pool.runner_pids()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await output(pool, "return 2") == 2
        assert not set(busy) & set(pool.runner_pids())


async def test_close_stops_busy_runners_and_refuses_new_calls() -> None:
    pool = RunnerPool(limits=LIMITS, size=2, warm=1)
    await pool.start()
    task = asyncio.create_task(call(pool, "import time\ntime.sleep(30)"))
    await asyncio.sleep(0.3)
    started = time.monotonic()
    await pool.close()
    result = await asyncio.wait_for(task, 5)
    assert time.monotonic() - started < 3
    assert not result.ok
    assert pool.runner_pids() == []
    with pytest.raises(SandboxError, match="closed"):
        await call(pool, "return 1")


async def test_isolation_off_runs_the_same_program_as_a_plain_process(
    unjailed: RunnerPool,
) -> None:
    assert await output(unjailed, "return input * 2", args={"input": 21}) == 42
    result = await call(unjailed, "while True:\n    pass", timeout_s=0.5)
    assert result.error_type == "TimeoutError"
    # Without a user namespace the kernel cannot count the runner's processes alone, so
    # it may not create any (threads are fine).
    code = "import os, threading\nthreading.Thread(target=print).start()\nos.fork()"
    forked = await call(unjailed, code)
    assert forked.error_type == "PermissionError"


async def test_host_that_cannot_isolate_says_how_to_proceed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pool_module, "probe", lambda: "no user namespaces (test)")
    pool = RunnerPool(isolation="on")
    with pytest.raises(SandboxUnavailableError) as caught:
        await pool.start()
    message = str(caught.value)
    assert "no user namespaces (test)" in message
    assert "RUNLOOM_PYTHON_ISOLATION=off" in message
    assert isinstance(caught.value, SandboxError)
    await pool.close()


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="warm"):
        RunnerPool(size=1, warm=2)
    with pytest.raises(ValueError, match="isolation"):
        RunnerPool(isolation="maybe")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="memory_mb"):
        SandboxLimits(memory_mb=0)


async def test_cpu_time_limit_stops_code_before_the_wall_clock_does() -> None:
    limits = SandboxLimits(cpu_s=1, memory_mb=256)
    async with RunnerPool(limits=limits, size=1, warm=1) as pool:
        started = time.monotonic()
        result = await call(pool, "while True:\n    pass", timeout_s=20, node_id="cpu")
        assert time.monotonic() - started < 5
        assert result.error_type == "TimeoutError"
        assert result.error_message == (
            "python node 'cpu' used more than 1 s of CPU time and was stopped"
        )
        # The limit is per call: a runner that has used some CPU gets a fresh second.
        burn = (
            "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6:\n    pass"
        )
        assert await output(pool, burn + "\nreturn 1") == 1
        assert await output(pool, burn + "\nreturn 2") == 2


async def test_odd_output_and_logs_survive_the_wire(runners: RunnerPool) -> None:
    code = "print('\\ud800', 'é')\nreturn {'s': '\\ud800é', 'n': None, 1: [1.5]}"
    result = await call(runners, code)
    assert result.ok, result.error_message
    assert result.output == {"s": "\ud800é", "n": None, "1": [1.5]}
    assert result.logs == "? é\n"
    deep = await call(runners, "return " + "(" * 500 + "1" + ")" * 500)
    assert deep.ok or deep.error_type == "SyntaxError"
    bad_print = await call(runners, "import sys\nsys.stdout.write(b'x')")
    assert bad_print.error_type == "TypeError"


async def test_a_call_that_leaves_a_process_behind_gets_a_fresh_runner(
    runners: RunnerPool,
) -> None:
    first = await call(runners, "import subprocess\nsubprocess.Popen(['sleep', '30'])")
    assert first.ok, first.error_message
    second = await call(runners, "return 1")
    assert second.runner_pid != first.runner_pid
    assert first.runner_pid not in runners.runner_pids()
