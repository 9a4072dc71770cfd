"""What a hostile python node tries, against real bubblewrap runners.

Each attack would succeed in the worker's own process (the old in-thread way); several are
also run with isolation "off" as a control, to show that the payload really does what it
claims when nothing stops it.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sys
import time
import uuid
from pathlib import Path

import psutil

from runloom.sandbox import RunnerPool
from runloom.sandbox.jail import JAIL_SITE_PACKAGES
from tests.sandbox.conftest import (
    CANARY_NAME,
    CHECKOUT,
    LIMITS,
    Canary,
    Listener,
    call,
    descendants,
    output,
    wait_all_gone,
)

ENVIRON_SCAN = """
found = []
for entry in os.listdir("/proc"):
    if entry.isdigit():
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if input["canary"].encode() in f.read():
                    found.append(entry)
        except OSError:
            pass
try:
    with open(f"/proc/{input['pid']}/environ", "rb") as f:
        direct = input["canary"].encode() in f.read()
except OSError as err:
    direct = type(err).__name__
return {"found": found, "direct": direct}
"""


def environ_scan() -> str:
    return "import os\n" + ENVIRON_SCAN


async def test_host_environments_are_unreadable(runners: RunnerPool, canary: Canary) -> None:
    args = {"input": {"canary": canary.value, "pid": canary.pid}}
    seen = await output(runners, environ_scan(), args=args)
    assert seen == {"found": [], "direct": "FileNotFoundError"}


async def test_control_environments_are_readable_without_a_jail(
    unjailed: RunnerPool, canary: Canary
) -> None:
    args = {"input": {"canary": canary.value, "pid": canary.pid}}
    seen = await output(unjailed, environ_scan(), args=args)
    assert seen["direct"] is True
    assert str(canary.pid) in seen["found"]


async def test_proc_lists_only_the_jails_own_processes(runners: RunnerPool) -> None:
    code = "import os\nreturn sorted(int(p) for p in os.listdir('/proc') if p.isdigit())"
    pids = await output(runners, code)
    assert os.getpid() not in pids
    assert len(pids) <= 3  # bubblewrap's init, the runner, and the listing itself at most
    assert max(pids) < 100


async def test_no_network_not_even_the_hosts_loopback(
    runners: RunnerPool, listener: Listener
) -> None:
    code = (
        "import socket\n"
        "s = socket.create_connection(('127.0.0.1', input), timeout=2)\n"
        "return 'connected'"
    )
    result = await call(runners, code, args={"input": listener.port})
    assert not result.ok
    assert result.error_type == "PermissionError"
    assert listener.connections == []


async def test_temporal_client_cannot_reach_a_server(
    runners: RunnerPool, listener: Listener
) -> None:
    code = (
        "import asyncio\n"
        "from temporalio.client import Client\n"
        "asyncio.run(Client.connect(f'127.0.0.1:{input}'))\n"
        "return 'connected'"
    )
    result = await call(runners, code, args={"input": listener.port})
    assert not result.ok, result.output
    assert result.error_type == "RuntimeError"
    assert "Failed client connect" in (result.error_message or "")
    assert listener.connections == []


SIGNAL_PAYLOAD = """
import os, signal
outcome = {}
for name, pid, sig in (("test", input, 0), ("parent", os.getppid(), signal.SIGTERM)):
    try:
        os.kill(pid, sig)
        outcome[name] = "delivered"
    except OSError as err:
        outcome[name] = type(err).__name__
return outcome
"""


async def test_signals_cannot_reach_the_worker(runners: RunnerPool) -> None:
    received: list[int] = []
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, received.append, signal.SIGTERM)
    try:
        outcome = await output(runners, SIGNAL_PAYLOAD, args={"input": os.getpid()})
        await asyncio.sleep(0.1)
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
    assert outcome["test"] == "ProcessLookupError"
    assert received == []
    assert await output(runners, "return 'still serving'") == "still serving"


async def test_control_signals_reach_the_worker_without_a_jail(unjailed: RunnerPool) -> None:
    code = "import os\nos.kill(input, 0)\nreturn 'delivered'"
    assert await output(unjailed, code, args={"input": os.getpid()}) == "delivered"


def secret_files(tmp_path: Path) -> list[str]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "secrets.key").write_text("s3cret")
    paths = [
        CHECKOUT / "README.md",
        CHECKOUT / "src" / "runloom" / "settings.py",
        CHECKOUT / "pyproject.toml",
        CHECKOUT / ".venv" / "pyvenv.cfg",
        data_dir / "secrets.key",
        Path("/etc/passwd"),
    ]
    return [str(p) for p in paths if p.exists()]


READ_FILES = """
found = {}
for path in input:
    try:
        with open(path, "rb") as f:
            found[path] = len(f.read())
    except OSError as err:
        found[path] = type(err).__name__
return found
"""


async def test_checkout_data_dir_and_host_files_are_invisible(
    runners: RunnerPool, tmp_path: Path
) -> None:
    paths = secret_files(tmp_path)
    assert len(paths) >= 5
    found = await output(runners, READ_FILES, args={"input": paths})
    assert found == dict.fromkeys(paths, "FileNotFoundError")


async def test_control_files_are_readable_without_a_jail(
    unjailed: RunnerPool, tmp_path: Path
) -> None:
    paths = secret_files(tmp_path)
    found = await output(unjailed, READ_FILES, args={"input": paths})
    assert all(isinstance(size, int) for size in found.values()), found


async def test_writes_stay_inside_the_jail(runners: RunnerPool) -> None:
    target = CHECKOUT / "tests" / "sandbox" / f"PWNED-{uuid.uuid4().hex}"
    code = (
        "import os\n"
        "os.makedirs(os.path.dirname(input), exist_ok=True)\n"
        "with open(input, 'w') as f:\n"
        "    f.write('pwned')\n"
        "return os.path.exists(input)"
    )
    # Where the checkout lies decides whether the jail's root has a path to it (under
    # /work it is the jail's own tmpfs; elsewhere the read-only root refuses): either
    # way nothing reaches the host's checkout.
    await call(runners, code, args={"input": str(target)})
    assert not target.exists()
    assert await output(runners, code, args={"input": "/work/deep/x"}) is True
    for root in ("/usr/lib", JAIL_SITE_PACKAGES, sys.base_prefix):
        result = await call(runners, f"open({root + '/x'!r}, 'w')")
        assert not result.ok
        assert "Read-only file system" in (result.error_message or "")


async def test_fork_bomb_hits_the_process_limit_and_the_pool_recovers(
    runners: RunnerPool,
) -> None:
    started = time.monotonic()
    result = await call(runners, "import os\nwhile True:\n    os.fork()", timeout_s=10)
    assert time.monotonic() - started < 5
    assert not result.ok
    assert result.error_type == "BlockingIOError"
    assert f"limit is {LIMITS.max_processes} processes" in (result.error_message or "")
    assert result.runner_pid not in runners.runner_pids()  # replaced, children and all
    assert await output(runners, "return 1 + 1") == 2


async def test_endless_allocation_is_a_clear_error(runners: RunnerPool) -> None:
    code = "blocks = []\nwhile True:\n    blocks.append(bytearray(16 * 1024 * 1024))"
    result = await call(runners, code, timeout_s=10)
    assert not result.ok
    assert result.error_type in ("MemoryError", "RunnerCrashed")
    assert f"{LIMITS.memory_mb} MB" in (result.error_message or "")
    assert await output(runners, "return 'fine'") == "fine"


async def test_endless_loop_times_out_and_the_process_is_gone(runners: RunnerPool) -> None:
    trees: dict[int, list[psutil.Process]] = {}

    async def watch() -> None:
        await asyncio.sleep(0.5)
        for pid in runners.runner_pids():
            trees[pid] = [psutil.Process(pid), *descendants(pid)]

    watcher = asyncio.create_task(watch())
    started = time.monotonic()
    result = await call(runners, "while True:\n    pass", timeout_s=1.5, node_id="spin")
    elapsed = time.monotonic() - started
    await watcher
    assert result.error_type == "TimeoutError"
    assert result.error_message == "python node 'spin' ran longer than 1.5 s and was stopped"
    assert 1.5 <= elapsed < 2.5
    assert result.runner_pid is not None
    spinning = trees[result.runner_pid]
    assert len(spinning) >= 2  # bubblewrap and the python inside it, at least
    assert await wait_all_gone(spinning), [p for p in spinning if p.is_running()]
    assert result.runner_pid not in runners.runner_pids()


async def test_code_holding_the_gil_in_c_does_not_stall_the_worker(
    runners: RunnerPool,
) -> None:
    ticks: list[float] = []

    async def tick() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    code = "import re\nreturn bool(re.match(r'(a*)*b', 'a' * 40))"
    started = time.monotonic()
    result = await call(runners, code, timeout_s=1.5)
    elapsed = time.monotonic() - started
    ticker.cancel()
    assert result.error_type == "TimeoutError"
    assert elapsed < 2.5
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    # The loop kept ticking all along (a stalled loop would show one 1.5 s gap).
    assert len(ticks) > 30 and max(gaps) < 0.5


KERNEL_CALLS = """
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
attempts = {
    "ptrace": lambda: libc.ptrace(16, 1, None, None),  # PTRACE_ATTACH to the jail's init
    "unshare": lambda: libc.unshare(0x10000000),  # CLONE_NEWUSER: a way back to privileges
    "mount": lambda: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None),
    "setns": lambda: libc.setns(os.open("/proc/self/ns/net", os.O_RDONLY), 0),
}
outcome = {}
for name, attempt in attempts.items():
    ctypes.set_errno(0)
    result = attempt()
    outcome[name] = errno.errorcode.get(ctypes.get_errno(), "OK") if result != 0 else "OK"
with open("/proc/self/status") as f:
    outcome["Seccomp"] = [l.split()[1] for l in f if l.startswith("Seccomp:")][0]
return outcome
"""


async def test_kernel_attack_surface_is_refused(runners: RunnerPool) -> None:
    outcome = await output(runners, KERNEL_CALLS)
    assert outcome == {
        "ptrace": "EPERM",
        "unshare": "EPERM",
        "mount": "EPERM",
        "setns": "EPERM",
        "Seccomp": "2",  # SECCOMP_MODE_FILTER
    }


async def test_runner_is_unprivileged_and_alone(runners: RunnerPool) -> None:
    code = (
        "import os, socket\n"
        "status = dict(l.split(':', 1) for l in open('/proc/self/status'))\n"
        "return {'host': socket.gethostname(), 'caps': status['CapEff'].strip(),\n"
        "        'nnp': status['NoNewPrivs'].strip(), 'uid': os.getuid(),\n"
        "        'env': sorted(os.environ), 'cwd': os.getcwd(), 'work': os.listdir('.')}"
    )
    seen = await output(runners, code)
    assert seen["host"] == "runloom"
    assert seen["caps"] == "0000000000000000"
    assert seen["nnp"] == "1"
    assert seen["uid"] != 0 or os.geteuid() != 0
    assert CANARY_NAME not in seen["env"]
    assert set(seen["env"]) <= {"PATH", "LANG", "TMPDIR", "HOME", "PWD"}
    assert seen["cwd"] == "/work"
