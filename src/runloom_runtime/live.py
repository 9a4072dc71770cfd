"""Live node states: the runloom worker hears of each node's change as it happens.

Generated workflows report through :func:`report`; inside runloom's worker this module
is passed through Temporal's workflow sandbox, so the listener the worker set is the one
called. Elsewhere (an exported project, a test) nobody listens and it costs nothing.
Replays report nothing: they re-run history, not the present.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from temporalio import workflow

__all__ = ["Listener", "report", "set_listener"]

# (temporal workflow id, run id, node id, the node's state)
Listener = Callable[[str, str, str, Mapping[str, Any]], None]

_listener: Listener | None = None


def set_listener(listener: Listener | None) -> None:
    global _listener  # one listener per worker process, by design
    _listener = listener


def report(node_id: str, state: Mapping[str, Any]) -> None:
    listener = _listener
    if listener is None or not workflow.in_workflow() or workflow.unsafe.is_replaying():
        return
    info = workflow.info()
    listener(info.workflow_id, info.run_id, node_id, state)
