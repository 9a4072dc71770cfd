"""A worker's memory: its cap, and how much it costs (its proportional set size, PSS).

RSS counts every page a process maps, also those it shares with the zygote and its
sibling workers, so it adds up to far more than the machine holds. PSS divides each
shared page among the processes that map it: the sum over processes is what they use.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

import psutil

__all__ = ["MEMORY_ENV", "address_space_bytes", "limit_address_space", "pss_mb"]

MEMORY_ENV = "RUNLOOM_WORKER_MEMORY_MB"
_MB = 1024 * 1024


def limit_address_space() -> str | None:
    """Cap this process's address space at RUNLOOM_WORKER_MEMORY_MB MiB (unset or 0: no
    cap); why the worker cannot run under that cap, if it cannot."""
    megabytes = int(os.environ.get(MEMORY_ENV, "0") or 0)
    if megabytes <= 0:
        return None
    # A worker forked by the zygote has its imports mapped already: under a cap below
    # that, every allocation would fail (and asyncio retries a failed read for ever).
    size = address_space_bytes()
    mapped = None if size is None else size // _MB
    if mapped is not None and mapped >= megabytes:
        return (
            f"{MEMORY_ENV}={megabytes} is below the {mapped} MB of address space a worker "
            f"has mapped before it starts; raise {MEMORY_ENV}"
        )
    resource.setrlimit(resource.RLIMIT_AS, (megabytes * _MB, megabytes * _MB))
    return None


def address_space_bytes() -> int | None:
    """This process's mapped address space (what RLIMIT_AS counts), if the kernel says."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return None


def pss_mb(pid: int | None = None) -> float | None:
    """The PSS of process ``pid`` (this one by default) in MiB; None if it is gone or its
    memory map is not readable from here (another user's, or a non-dumpable process
    read without CAP_SYS_PTRACE)."""
    try:
        info = psutil.Process(pid).memory_full_info()
    except (psutil.Error, OSError):
        return None
    pss = getattr(info, "pss", None)
    return None if pss is None else round(pss / _MB, 1)
