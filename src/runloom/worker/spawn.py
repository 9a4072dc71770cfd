"""How a project worker process is started: its command line and its whole environment."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from runloom.worker.process import MEMORY_ENV

__all__ = ["worker_command", "worker_environment"]

# Kept from the parent's environment when set: enough to find Python, its packages and
# the locale, and nothing that could hold a secret.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR")


def worker_command(*, python: str | None = None) -> list[str]:
    # -I would drop PYTHONPATH too; -s keeps ~/.local packages out of a worker that
    # runs the platform's interpreter.
    return [python or sys.executable, "-s", "-m", "runloom.worker"]


def worker_environment(
    *,
    temporal_address: str,
    temporal_namespace: str,
    memory_mb: int,
    parent: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The complete environment of a worker: no DATABASE_URL, no JWT secret, no tokens.

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
    env["TEMPORAL_ADDRESS"] = temporal_address
    env["TEMPORAL_NAMESPACE"] = temporal_namespace
    env[MEMORY_ENV] = str(memory_mb)
    return env
