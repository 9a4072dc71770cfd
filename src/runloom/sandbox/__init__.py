"""Kernel-isolated runners for the code of `python` nodes.

A project worker starts a :class:`RunnerPool` and routes python nodes to it::

    pool = RunnerPool(limits=SandboxLimits(memory_mb=512), isolation="on")
    await pool.start()          # SandboxUnavailableError when the host cannot isolate
    install(pool)               # runloom_runtime.python_node.run now calls the pool
    ...
    install(None)
    await pool.close()

Each runner is a warm Python process in a bubblewrap jail (its own user, pid, mount,
network, ipc, uts and cgroup namespaces; no network; only the interpreter, the libraries
and an empty scratch directory to see), with rlimits, a seccomp filter and a hard
wall-clock timeout per call. See ``jail.py`` for what a runner sees.

``RunnerPool(network=True)`` lets node code make HTTP(S) requests (urllib, http.client,
requests, httpx) through the pool's :class:`EgressProxy`, which allows what the egress
policy allows http nodes; the jail itself still has no network. See ``proxy.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runloom.sandbox.errors import SandboxError, SandboxUnavailableError
from runloom.sandbox.jail import probe
from runloom.sandbox.limits import Isolation, SandboxLimits
from runloom.sandbox.pool import CallResult, RunnerPool
from runloom.sandbox.proxy import EgressProxy
from runloom_runtime import python_node

__all__ = [
    "CallResult",
    "EgressProxy",
    "Isolation",
    "RunnerPool",
    "SandboxError",
    "SandboxLimits",
    "SandboxUnavailableError",
    "install",
    "probe",
]


def install(pool: RunnerPool | None) -> None:
    """Make every python node of this process run in ``pool`` (None: back in-thread)."""
    if pool is None:
        python_node.set_executor(None)
        return

    async def execute(
        *,
        code: str,
        node_id: str,
        args: Mapping[str, Any],
        timeout_s: float | None,
        secrets: Mapping[str, str],
    ) -> dict[str, Any]:
        result = await pool.call(
            code=code, node_id=node_id, args=args, timeout_s=timeout_s, secrets=secrets
        )
        return result.as_reply()

    python_node.set_executor(execute)
