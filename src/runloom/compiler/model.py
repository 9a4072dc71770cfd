"""The graph document as pydantic models (parsed by :mod:`.parse`).

Nodes form a discriminated union on ``type``; each type has its own ``config`` model with
defaults. Node-level keys the canvas adds (``position``, ``selected``...) are ignored, but
unknown keys inside ``config`` are rejected so that a typo is reported instead of ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

__all__ = [
    "ERROR_BRANCH",
    "ERROR_EDGE_SOURCES",
    "MAX_GRAPH_BYTES",
    "MAX_GRAPH_DEPTH",
    "MAX_PYTHON_BYTES",
    "NODE_TYPES",
    "ActivityNode",
    "ChildWorkflowNode",
    "ConditionNode",
    "DelayNode",
    "Edge",
    "EndNode",
    "ForEachNode",
    "Graph",
    "GraphSettings",
    "HttpRequestNode",
    "Node",
    "PythonNode",
    "RetryConfig",
    "StartNode",
    "TransformNode",
    "WaitForSignalNode",
]

MAX_NODES = 200
MAX_EDGES = 500
MAX_GRAPH_BYTES = 256 * 1024
# Lists and objects inside one another; generated code nests as deep, and Python's
# parser stops at 200 brackets.
MAX_GRAPH_DEPTH = 64
MAX_PYTHON_BYTES = 64 * 1024
MAX_ID_LENGTH = 128
ONE_YEAR_S = 365 * 24 * 3600.0
ONE_DAY_S = 24 * 3600.0


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetryConfig(_Strict):
    """Temporal retry policy of an activity node (None fields keep Temporal's defaults)."""

    maximum_attempts: Annotated[int, Field(ge=0, le=1000)] = 3
    initial_interval_s: Annotated[float, Field(gt=0, le=ONE_DAY_S)] = 1.0
    backoff_coefficient: Annotated[float, Field(ge=1, le=100)] = 2.0
    maximum_interval_s: Annotated[float | None, Field(gt=0, le=ONE_DAY_S)] = None
    non_retryable_error_types: tuple[Annotated[str, Field(min_length=1, max_length=200)], ...] = ()


NodeId = Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH)]
Timeout = Annotated[float, Field(gt=0, le=ONE_YEAR_S)]


class _NodeBase(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: NodeId
    label: Annotated[str, Field(max_length=500)] | None = None


class ActivityNode(_NodeBase):
    """Fields shared by nodes that run activities."""

    retry: RetryConfig | None = None
    timeout_s: Annotated[float, Field(gt=0, le=ONE_DAY_S)] = 60.0
    schedule_to_close_s: Timeout | None = None
    local: bool = False


# --- configs --------------------------------------------------------------------------


class EmptyConfig(_Strict):
    pass


class EndConfig(_Strict):
    # None: the run returns every node's output (`steps`).
    output: JsonValue = None


HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class HttpRequestConfig(_Strict):
    method: HttpMethod = "GET"
    url: Annotated[str, Field(min_length=1, max_length=8192)]
    headers: dict[str, str] = Field(default_factory=dict)
    body: JsonValue = None
    timeout_s: Annotated[float, Field(gt=0, le=3600)] = 30.0
    fail_on_status: bool = True


class TransformConfig(_Strict):
    output: JsonValue


class ConditionConfig(_Strict):
    expression: Annotated[str, Field(min_length=1, max_length=10_000)]


class DelayConfig(_Strict):
    seconds: Annotated[float, Field(ge=0, le=ONE_YEAR_S)]


class WaitForSignalConfig(_Strict):
    signal: Annotated[str, Field(min_length=1, max_length=200)]
    # None waits for ever.
    timeout_s: Timeout | None = None


class PythonConfig(_Strict):
    code: str


class ChildWorkflowConfig(_Strict):
    workflow: Annotated[str, Field(min_length=1, max_length=200)]
    input: JsonValue = None


class HttpStep(_Strict):
    type: Literal["http_request"]
    config: HttpRequestConfig


class PythonStep(_Strict):
    type: Literal["python"]
    config: PythonConfig


class TransformStep(_Strict):
    type: Literal["transform"]
    config: TransformConfig


class ChildWorkflowStep(_Strict):
    type: Literal["child_workflow"]
    config: ChildWorkflowConfig


Step = Annotated[
    HttpStep | PythonStep | TransformStep | ChildWorkflowStep, Field(discriminator="type")
]


class ForEachConfig(_Strict):
    items: Annotated[str, Field(min_length=1, max_length=10_000)]
    concurrency: Annotated[int, Field(ge=1, le=100)] = 5
    step: Step


# --- nodes ----------------------------------------------------------------------------


class StartNode(_NodeBase):
    type: Literal["start"]
    config: EmptyConfig = EmptyConfig()


class EndNode(_NodeBase):
    type: Literal["end"]
    config: EndConfig = EndConfig()


class HttpRequestNode(ActivityNode):
    type: Literal["http_request"]
    config: HttpRequestConfig


class TransformNode(_NodeBase):
    type: Literal["transform"]
    config: TransformConfig


class ConditionNode(_NodeBase):
    type: Literal["condition"]
    config: ConditionConfig


class DelayNode(_NodeBase):
    type: Literal["delay"]
    config: DelayConfig


class WaitForSignalNode(_NodeBase):
    type: Literal["wait_for_signal"]
    config: WaitForSignalConfig


class PythonNode(ActivityNode):
    type: Literal["python"]
    config: PythonConfig


class ForEachNode(ActivityNode):
    type: Literal["for_each"]
    config: ForEachConfig


class ChildWorkflowNode(_NodeBase):
    type: Literal["child_workflow"]
    config: ChildWorkflowConfig


Node = Annotated[
    StartNode
    | EndNode
    | HttpRequestNode
    | TransformNode
    | ConditionNode
    | DelayNode
    | WaitForSignalNode
    | PythonNode
    | ForEachNode
    | ChildWorkflowNode,
    Field(discriminator="type"),
]

NODE_TYPES: tuple[str, ...] = (
    "start",
    "end",
    "http_request",
    "transform",
    "condition",
    "delay",
    "wait_for_signal",
    "python",
    "for_each",
    "child_workflow",
)

# The branch of an error path: taken when its source fails after its retries, instead of
# failing the run (see runloom_runtime.graph).
ERROR_BRANCH = "error"

# Node types that may fail on their own (an activity, a child run or a template over the
# run's data), and so may have an error edge. A transform counts whether or not its
# templates read secrets (which decides only where they are rendered).
ERROR_EDGE_SOURCES: tuple[str, ...] = (
    "http_request",
    "python",
    "transform",
    "for_each",
    "child_workflow",
)

# Branch labels each node type may put on its outgoing edges (None: unlabelled).
BRANCHES: Mapping[str, tuple[str | None, ...]] = {
    "condition": ("true", "false"),
    "wait_for_signal": (None, "timeout"),
    **{node_type: (None, ERROR_BRANCH) for node_type in ERROR_EDGE_SOURCES},
}


class Edge(BaseModel):
    """``branch`` labels the edge; ``"error"`` is also accepted spelled ``"on_error": true``
    (DESIGN.md) or ``"sourceHandle": "error"`` (the canvas's handle id), so that an error
    edge written either way is never read as a plain edge that runs on success."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    source: Annotated[str, Field(min_length=1)]
    target: Annotated[str, Field(min_length=1)]
    branch: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _error_aliases(cls, data: object) -> object:
        if not isinstance(data, Mapping):
            return data
        on_error = data.get("on_error", False)
        if not isinstance(on_error, bool):
            raise ValueError("on_error must be true or false")
        if on_error or data.get("sourceHandle") == ERROR_BRANCH:
            if data.get("branch") not in (None, ERROR_BRANCH):
                raise ValueError(
                    f"an error edge cannot also take branch {data.get('branch')!r}; "
                    'write it as "branch": "error"'
                )
            return {**data, "branch": ERROR_BRANCH}
        return data


class GraphSettings(_Strict):
    """Graph-wide settings (the document's ``settings`` object)."""

    # Temporal's execution timeout of every run: past it the run ends `timed_out`.
    execution_timeout_s: Annotated[float, Field(ge=1, le=ONE_YEAR_S)] | None = None


class Graph(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...] = ()
    settings: GraphSettings = GraphSettings()

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)
