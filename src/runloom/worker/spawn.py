"""How a project worker process is started: its command line and its whole environment."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from runloom.worker.memory import MEMORY_ENV

__all__ = ["worker_command", "worker_environment", "zygote_command"]

_WORKER_MODULE = "runloom.worker"
# Kept from the parent's environment when set: enough to find Python, its packages and
# the locale, and nothing that could hold a secret.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR")


def worker_command(*, python: str | None = None) -> list[str]:
    # Isolated imports without -I, which would also drop the PYTHONPATH that finds an
    # uninstalled checkout: -s keeps ~/.local out, -P keeps the working directory off
    # sys.path (the worker also starts in an empty private one).
    return [python or sys.executable, "-s", "-P", "-m", _WORKER_MODULE]


def zygote_command(worker: Sequence[str]) -> list[str] | None:
    """The command line of the zygote that forks workers of ``worker``'s command line
    (same interpreter and flags); None for a command that is not runloom's worker."""
    if list(worker[-2:]) != ["-m", _WORKER_MODULE]:
        return None
    return [*worker[:-1], "runloom.worker.zygote"]


def worker_environment(
    *, memory_mb: int, parent: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The complete environment of a worker: no DATABASE_URL, no JWT secret, no tokens;
    what it needs to reach Temporal comes over its pipe.

    The worker imports runloom and runloom_runtime from wherever this process imports
    them, so an uninstalled checkout works too.
    """
    parent = os.environ if parent is None else parent
    env = {name: parent[name] for name in _INHERITED if name in parent}
    env.setdefault("PATH", os.defpath)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = package_root
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # glibc gives every thread its own 64 MB malloc arena of address space, which an
    # address-space cap would mistake for memory use.
    env["MALLOC_ARENA_MAX"] = "2"
    env[MEMORY_ENV] = str(memory_mb)
    return env
