"""The messages between a manager and its project worker process: one JSON object a line.

Manager -> worker (stdin): ``start`` (first line, once), ``reload``, ``stop``. End of
input means the manager is gone, and the worker shuts down like on ``stop``.

Worker -> manager (stdout): ``ready``, ``heartbeat``, ``reloaded``, ``reload_failed``,
``error``, ``stopped``.

Kept free of runloom imports beyond the standard library: the worker process imports it
first thing and its start time counts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["BundleEntry", "StartMessage", "bundle_from_json", "bundle_to_json"]


@dataclass(frozen=True, slots=True)
class BundleEntry:
    """One compiled version as the worker imports it."""

    module: str
    workflow_type: str
    version: str
    workflow_code: str
    activities_code: str


@dataclass(frozen=True, slots=True)
class StartMessage:
    task_queue: str
    temporal_address: str
    temporal_namespace: str
    identity: str
    heartbeat_s: float
    graceful_shutdown_s: float
    bundle: tuple[BundleEntry, ...]

    def to_json(self) -> dict[str, Any]:
        document = asdict(self)
        document["type"] = "start"
        document["bundle"] = bundle_to_json(self.bundle)
        return document

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> StartMessage:
        return cls(
            task_queue=document["task_queue"],
            temporal_address=document["temporal_address"],
            temporal_namespace=document["temporal_namespace"],
            identity=document["identity"],
            heartbeat_s=float(document["heartbeat_s"]),
            graceful_shutdown_s=float(document["graceful_shutdown_s"]),
            bundle=bundle_from_json(document["bundle"]),
        )


def bundle_to_json(bundle: tuple[BundleEntry, ...]) -> list[dict[str, Any]]:
    return [asdict(entry) for entry in bundle]


def bundle_from_json(items: list[dict[str, Any]]) -> tuple[BundleEntry, ...]:
    return tuple(BundleEntry(**item) for item in items)
