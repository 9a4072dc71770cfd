"""The outputs of a run's workflow-side steps, for its memo.

An activity's result is in the run's history; the output of a node that runs in workflow
code (a transform without secrets, a condition, a signal's payload, a child workflow's
result...) is in no event. So when a run ends, :class:`runloom_runtime.graph.GraphRun`
writes those outputs into the memo beside the node states: they outlive the worker that
could answer the ``steps`` query. Bounded, because the memo comes with every describe of
the run and Temporal fails a workflow task whose memo is over its limit (2 MB by default).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

__all__ = ["MAX_STEP_OUTPUTS_MEMO_BYTES", "STEP_OUTPUTS_MEMO", "kept_outputs"]

# The memo key (also the patch id that introduced it).
STEP_OUTPUTS_MEMO = "runloom_step_outputs"
MAX_STEP_OUTPUTS_MEMO_BYTES = 128 * 1024


def kept_outputs(
    steps: Mapping[str, Any],
    *,
    skip: Collection[str],
    limit: int = MAX_STEP_OUTPUTS_MEMO_BYTES,
) -> dict[str, Any]:
    """``{"outputs": {node: output}, "omitted": {node: bytes}}`` of ``steps`` but those in
    ``skip``, in order: while they fit in ``limit`` bytes of JSON, the others only by their
    size. Deterministic, as workflow code must be."""
    outputs: dict[str, Any] = {}
    omitted: dict[str, int] = {}
    room = limit
    for node_id, value in steps.items():
        if node_id in skip:
            continue
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
        size = len(text.encode("utf-8"))
        if size > room:
            omitted[node_id] = size
            continue
        outputs[node_id] = value
        room -= size
    return {"outputs": outputs, "omitted": omitted}
