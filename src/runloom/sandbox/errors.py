"""The sandbox's exceptions; failures of user code are results (``CallResult``), not these."""

from __future__ import annotations

from runloom.errors import RunloomError

__all__ = ["SandboxError", "SandboxUnavailableError"]


class SandboxError(RunloomError):
    """The runner pool itself cannot do what was asked."""


class SandboxUnavailableError(SandboxError):
    """This host cannot isolate python nodes (no bubblewrap or no user namespaces)."""
