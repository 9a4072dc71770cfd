"""The messages between a manager and its project worker process: one JSON object a line.

Manager → worker (stdin): :class:`Start` (first line, once), :class:`Reload`,
:class:`Stop`, :class:`Secrets`. End of input means the manager is gone, and the worker
shuts down as on ``Stop``. Worker → manager (stdout): :class:`Ready`, :class:`Heartbeat`,
:class:`NodeStates`, :class:`Reloaded`, :class:`ReloadFailed`, :class:`Error`,
:class:`Stopped`, :class:`SecretsRequest`.

Secrets are asked for, never pushed: an activity that uses them sends a
:class:`SecretsRequest` and the manager answers it with the project's values as they are
in the database then, so a changed secret is used by the next call, without a restart,
and a worker holds values only while an activity uses them.

Every message is a frozen dataclass; :func:`encode` and :func:`decode` are the only
places that know the wire format, so a renamed field is a type error, not a silent
``None``. Kept free of runloom imports beyond the standard library: the worker process
imports it first thing and its start time counts.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, TypeAlias

__all__ = [
    "BundleEntry",
    "Error",
    "Heartbeat",
    "ManagerMessage",
    "NodeState",
    "NodeStates",
    "ProtocolError",
    "Ready",
    "Reload",
    "ReloadFailed",
    "Reloaded",
    "Secrets",
    "SecretsRequest",
    "Start",
    "Stop",
    "Stopped",
    "WorkerMessage",
    "decode",
    "encode",
]


class ProtocolError(ValueError):
    """A line that is not a message of this protocol."""


@dataclass(frozen=True, slots=True)
class BundleEntry:
    """One compiled version as the worker imports it."""

    module: str
    workflow_type: str
    version: int
    workflow_code: str
    activities_code: str


@dataclass(frozen=True, slots=True)
class Start:
    task_queue: str
    temporal_address: str
    temporal_namespace: str
    identity: str
    heartbeat_s: float
    graceful_shutdown_s: float
    bundle: tuple[BundleEntry, ...]
    # How python nodes run: "on" (kernel sandbox) or "off" (a plain child process).
    python_isolation: str = "on"
    # The project lets its python nodes make HTTP(S) requests through the egress guard.
    python_network: bool = False
    # runloom_runtime.egress.EgressPolicy.to_json() of the http nodes' guard.
    egress: dict[str, Any] = field(default_factory=dict)
    # runloom.temporal_access.TemporalAccess.to_wire(): TLS material and API key for the
    # connection to Temporal (None: plain, no key). Secret, hence no repr.
    temporal_tls: dict[str, Any] | None = field(default=None, repr=False)
    # runloom.tracing.WorkerTracing.to_json(), or None: no tracing. Its headers may carry
    # a collector's credentials, hence no repr.
    tracing: dict[str, Any] | None = field(default=None, repr=False)
    # {"prometheus_bind": "127.0.0.1:<port>"}: serve the Temporal SDK's metrics there for
    # the manager to collect (None: no metrics).
    metrics: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Reload:
    bundle: tuple[BundleEntry, ...]


@dataclass(frozen=True, slots=True)
class Stop:
    pass


@dataclass(frozen=True, slots=True)
class Secrets:
    """The answer to :class:`SecretsRequest` ``request_id``: every secret of the project
    (name -> value), or ``error`` saying why they could not be read."""

    request_id: int
    # Not in the repr: a message that ends up in a log must not carry the values.
    values: dict[str, str] | None = field(default=None, repr=False)
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Ready:
    pid: int
    loaded: tuple[str, ...]
    startup_ms: int


@dataclass(frozen=True, slots=True)
class Heartbeat:
    rss_mb: float
    cpu_percent: float
    loaded: tuple[str, ...]
    tasks_completed: int
    tasks_failed: int
    # Mean duration of the tasks this process finished; None before the first.
    avg_task_ms: int | None
    # Proportional set size: pages shared with the zygote and sibling workers count for
    # their share only (None: unreadable here).
    pss_mb: float | None = None


@dataclass(frozen=True, slots=True)
class NodeState:
    """One node of one live run changed (see runloom_runtime.live)."""

    workflow_id: str
    run_id: str
    node_id: str
    state: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NodeStates:
    changes: tuple[NodeState, ...]


@dataclass(frozen=True, slots=True)
class Reloaded:
    loaded: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReloadFailed:
    message: str


@dataclass(frozen=True, slots=True)
class Error:
    message: str


@dataclass(frozen=True, slots=True)
class SecretsRequest:
    """An activity that uses secrets is running: the worker asks for its project's."""

    request_id: int


@dataclass(frozen=True, slots=True)
class Stopped:
    tasks_completed: int
    tasks_failed: int


ManagerMessage: TypeAlias = Start | Reload | Stop | Secrets
WorkerMessage: TypeAlias = (
    Ready | Heartbeat | NodeStates | Reloaded | ReloadFailed | Error | Stopped | SecretsRequest
)

_KINDS: dict[str, type[Any]] = {
    "start": Start,
    "reload": Reload,
    "stop": Stop,
    "ready": Ready,
    "heartbeat": Heartbeat,
    "node_states": NodeStates,
    "reloaded": Reloaded,
    "reload_failed": ReloadFailed,
    "error": Error,
    "stopped": Stopped,
    "secrets_request": SecretsRequest,
    "secrets": Secrets,
}
_NAMES: dict[type[Any], str] = {cls: name for name, cls in _KINDS.items()}


def encode(message: ManagerMessage | WorkerMessage) -> bytes:
    """One line of the wire format, newline included."""
    document = dataclasses.asdict(message)
    document["type"] = _NAMES[type(message)]
    return (json.dumps(document, separators=(",", ":")) + "\n").encode()


def decode(line: bytes | str) -> ManagerMessage | WorkerMessage:
    """The message of one line; ProtocolError for anything else."""
    try:
        document = json.loads(line)
        cls = _KINDS[document.pop("type")]
        if "bundle" in document:
            document["bundle"] = tuple(BundleEntry(**entry) for entry in document["bundle"])
        if "changes" in document:
            document["changes"] = tuple(NodeState(**change) for change in document["changes"])
        if "loaded" in document:
            document["loaded"] = tuple(document["loaded"])
        message: ManagerMessage | WorkerMessage = cls(**document)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ProtocolError(f"not a worker protocol message: {exc}") from exc
    return message
