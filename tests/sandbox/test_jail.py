"""The runner's command line and first message: what a jail is given, and what it is not."""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

from runloom.sandbox import SandboxLimits, probe
from runloom.sandbox.jail import JAIL_SITE_PACKAGES, RUNNER_HOST_ID, Jail, venv_site_packages
from tests.sandbox.conftest import CHECKOUT

LIMITS = SandboxLimits(cpu_s=5, memory_mb=128, max_processes=8, max_open_files=64)


def jail(**kwargs: object) -> Jail:
    options: dict[str, object] = {
        "limits": LIMITS,
        "isolation": "on",
        "site_packages": venv_site_packages(),
    }
    options.update(kwargs)
    return Jail(**options)  # type: ignore[arg-type]


def binds(command: list[str]) -> dict[str, str]:
    """Destination -> source of every bind in a bubblewrap command line."""
    found = {}
    for i, arg in enumerate(command):
        if arg in ("--bind", "--ro-bind", "--dev-bind", "--bind-try", "--ro-bind-try"):
            found[command[i + 2]] = command[i + 1]
    return found


def test_this_host_can_isolate() -> None:
    assert probe() is None


def test_namespaces_and_privileges() -> None:
    command = jail().command(info_fd=5, block_fd=6)
    for flag in ("--unshare-all", "--unshare-user", "--die-with-parent", "--new-session"):
        assert flag in command
    assert command[command.index("--cap-drop") + 1] == "ALL"
    assert command[command.index("--hostname") + 1] == "runloom"
    assert "--share-net" not in command
    if os.geteuid() == 0:
        assert command[command.index("--userns-block-fd") + 1] == "6"
    else:
        assert "--disable-userns" in command


def test_only_read_only_system_trees_and_site_packages_are_bound() -> None:
    command = jail().command(info_fd=5, block_fd=6)
    assert "--bind" not in command and "--dev-bind" not in command
    found = binds(command)
    site = venv_site_packages()
    assert site is not None
    assert found.pop(JAIL_SITE_PACKAGES) == str(site)
    assert found.pop("/usr") == "/usr"
    for destination, source in found.items():
        assert destination == source
        assert Path(source) == Path(sys.base_prefix).resolve() or source.startswith("/lib")
    for source in binds(command).values():
        assert not CHECKOUT.is_relative_to(source)  # no tree that holds the checkout
        assert source == str(site) or not Path(source).is_relative_to(CHECKOUT)


def test_scratch_space_is_private_and_bounded() -> None:
    command = jail(limits=SandboxLimits(file_size_mb=3)).command(info_fd=5, block_fd=6)
    tmpfs = [i + 1 for i, arg in enumerate(command) if arg == "--tmpfs"]
    for place in ("/tmp", "/work"):
        at = next(i for i in tmpfs if command[i] == place)
        assert command[at - 3 : at - 1] == ["--size", str(3 * 1024 * 1024)]
    assert command[command.index("--chdir") + 1] == "/work"
    assert command[command.index("--proc") + 1] == "/proc"


def test_environment_is_cleared() -> None:
    command = jail().command(info_fd=5, block_fd=6)
    assert "--clearenv" in command
    names = {command[i + 1] for i, arg in enumerate(command) if arg == "--setenv"}
    assert names == {"PATH", "LANG", "TMPDIR", "HOME"}


def test_runner_gets_its_program_as_text_and_no_site() -> None:
    command = jail().command(info_fd=5, block_fd=6)
    python = command.index("-c") - 4
    assert command[python + 1 : python + 4] == ["-I", "-S", "-B"]
    program = ast.parse(command[command.index("-c") + 1])
    imported = set()
    for node in ast.walk(program):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


def test_hidden_paths_inside_bound_trees_are_covered() -> None:
    inside = Path(sys.base_prefix).resolve() / "lib"
    command = jail(hidden=[inside, Path("/nowhere/data")]).command(info_fd=5, block_fd=6)
    assert command[command.index(str(inside)) - 1] == "--tmpfs"
    assert "/nowhere/data" not in command  # not visible anyway


def test_first_message_carries_the_limits() -> None:
    hello = jail().hello()
    assert hello["rlimits"] == {
        "RLIMIT_AS": 128 * 1024 * 1024,
        "RLIMIT_NOFILE": 64,
        "RLIMIT_FSIZE": 16 * 1024 * 1024,
        "RLIMIT_CORE": 0,
        "RLIMIT_NPROC": 8,
    }
    assert hello["cpu_s"] == 5
    assert hello["sys_path"] == [JAIL_SITE_PACKAGES]
    assert hello["drop_to"] == (RUNNER_HOST_ID if os.geteuid() == 0 else None)
    assert len(bytes.fromhex(hello["seccomp"])) % 8 == 0
    unjailed = jail(isolation="off").hello()
    assert "RLIMIT_NPROC" not in unjailed["rlimits"]
    assert unjailed["drop_to"] is None
    assert unjailed["seccomp"] != hello["seccomp"]  # this one refuses new processes
