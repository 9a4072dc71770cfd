"""What a python node may consume; the same numbers apply to every call of a runner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Isolation", "SandboxLimits"]

Isolation = Literal["on", "off"]


@dataclass(frozen=True, kw_only=True)
class SandboxLimits:
    """Per-runner limits; the wall-clock timeout is per call and given to ``call``.

    ``cpu_s`` is CPU time per call (a backstop behind the wall-clock timeout, which also
    stops code that sleeps or blocks). ``memory_mb`` is address space, so it must leave
    room for the interpreter and for thread stacks of libraries a node imports.
    ``max_processes`` counts threads too, as the kernel does.
    """

    cpu_s: int = 30
    memory_mb: int = 512
    max_processes: int = 32
    max_open_files: int = 256
    file_size_mb: int = 16

    def __post_init__(self) -> None:
        for name in ("cpu_s", "memory_mb", "max_processes", "max_open_files", "file_size_mb"):
            if getattr(self, name) < 1:
                raise ValueError(f"SandboxLimits.{name} must be at least 1")
