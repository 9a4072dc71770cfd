"""Parse stage: the graph document as pydantic models.

Nodes form a discriminated union on ``type``; each type has its own ``config`` model with
defaults. Node-level keys the canvas adds (``position``, ``selected``...) are ignored, but
unknown keys inside ``config`` are rejected so that a typo is reported instead of ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter, ValidationError

from runloom.compiler.errors import GraphInvalid, Problem

__all__ = [
    "MAX_GRAPH_BYTES",
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
    "HttpRequestNode",
    "Node",
    "PythonNode",
    "RetryConfig",
    "StartNode",
    "TransformNode",
    "WaitForSignalNode",
    "parse_graph",
]

MAX_NODES = 200
MAX_EDGES = 500
MAX_GRAPH_BYTES = 256 * 1024
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

# Branch labels each node type may put on its outgoing edges (None: unlabelled).
BRANCHES: Mapping[str, tuple[str | None, ...]] = {
    "condition": ("true", "false"),
    "wait_for_signal": (None, "timeout"),
}


class Edge(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    source: Annotated[str, Field(min_length=1)]
    target: Annotated[str, Field(min_length=1)]
    branch: str | None = None


class Graph(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...] = ()

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)


_NODE_ADAPTER: TypeAdapter[Node] = TypeAdapter(Node)
_EDGE_ADAPTER: TypeAdapter[Edge] = TypeAdapter(Edge)


@dataclass(frozen=True)
class Skeleton:
    """Ids, types and edges of every node, parsed or not: enough for structural checks."""

    nodes: tuple[tuple[str, str], ...]
    edges: tuple[Edge | None, ...]


@dataclass(frozen=True)
class ParseResult:
    graph: Graph | None
    skeleton: Skeleton
    nodes: tuple[Node, ...]
    problems: tuple[Problem, ...]


def _where(loc: Sequence[int | str]) -> str:
    return ".".join(str(part) for part in loc) or "(node)"


def _describe(error: Mapping[str, Any]) -> tuple[str, str]:
    kind = str(error["type"])
    code = (
        "out_of_range"
        if kind
        in {
            "greater_than",
            "greater_than_equal",
            "less_than",
            "less_than_equal",
            "too_long",
            "too_short",
            "string_too_long",
            "string_too_short",
        }
        else "invalid_field"
    )
    return code, str(error["msg"])


def _node_problems(index: int, node_id: str | None, err: ValidationError) -> list[Problem]:
    who = f"node {node_id!r}" if node_id is not None else f"node #{index}"
    problems = []
    for error in err.errors(include_url=False):
        loc = list(error["loc"])
        # The discriminated union puts the tag first in the location; drop it.
        if loc and loc[0] in NODE_TYPES:
            loc = loc[1:]
        code, msg = _describe(error)
        if error["type"] == "extra_forbidden":
            code = "unknown_field"
            msg = "this field is not known; check its spelling"
        problems.append(Problem(code, f"{who}: field {_where(loc)}: {msg}.", node_id=node_id))
    return problems


def _parse(raw: Mapping[str, Any]) -> ParseResult:
    problems: list[Problem] = []
    if not isinstance(raw, Mapping):
        problem = Problem("invalid_graph", "the graph must be a JSON object with nodes and edges.")
        return ParseResult(None, Skeleton((), ()), (), (problem,))
    try:
        size = len(json.dumps(raw, allow_nan=False, separators=(",", ":")).encode())
    except (TypeError, ValueError) as err:
        problem = Problem("invalid_graph", f"the graph is not valid JSON data: {err}.")
        return ParseResult(None, Skeleton((), ()), (), (problem,))
    if size > MAX_GRAPH_BYTES:
        problem = Problem(
            "graph_too_large",
            f"the graph is {size} bytes of JSON; the limit is {MAX_GRAPH_BYTES} bytes "
            "(256 KiB). Split it into child workflows.",
        )
        return ParseResult(None, Skeleton((), ()), (), (problem,))
    raw_nodes = raw.get("nodes")
    raw_edges = raw.get("edges", [])
    if not isinstance(raw_nodes, list) or not isinstance(raw_edges, list):
        problem = Problem(
            "invalid_graph", "the graph needs a list of `nodes` and a list of `edges`."
        )
        return ParseResult(None, Skeleton((), ()), (), (problem,))
    if len(raw_nodes) > MAX_NODES:
        problems.append(
            Problem(
                "too_many_nodes",
                f"the graph has {len(raw_nodes)} nodes; the limit is {MAX_NODES}. "
                "Move part of it into a child workflow.",
            )
        )
    if len(raw_edges) > MAX_EDGES:
        problems.append(
            Problem(
                "too_many_edges",
                f"the graph has {len(raw_edges)} edges; the limit is {MAX_EDGES}.",
            )
        )
    if problems:
        return ParseResult(None, Skeleton((), ()), (), tuple(problems))

    nodes: list[Node] = []
    skeleton_nodes: list[tuple[str, str]] = []
    for index, item in enumerate(raw_nodes):
        node_id = item.get("id") if isinstance(item, Mapping) else None
        if not isinstance(node_id, str) or not node_id:
            problems.append(
                Problem(
                    "missing_id", f"node #{index} has no `id`; every node needs a unique string id."
                )
            )
            continue
        node_type = item.get("type")
        if node_type not in NODE_TYPES:
            problems.append(
                Problem(
                    "unknown_node_type",
                    f"node {node_id!r} has unknown type {node_type!r}; use one of "
                    + ", ".join(NODE_TYPES)
                    + ".",
                    node_id=node_id,
                )
            )
            skeleton_nodes.append((node_id, "unknown"))
            continue
        skeleton_nodes.append((node_id, str(node_type)))
        try:
            nodes.append(_NODE_ADAPTER.validate_python(item))
        except ValidationError as err:
            problems.extend(_node_problems(index, node_id, err))

    edges: list[Edge | None] = []
    for index, item in enumerate(raw_edges):
        try:
            edges.append(_EDGE_ADAPTER.validate_python(item))
        except ValidationError as err:
            edges.append(None)
            details = "; ".join(
                f"{_where(e['loc'])}: {e['msg']}" for e in err.errors(include_url=False)
            )
            problems.append(
                Problem(
                    "invalid_edge",
                    f"edge #{index} is invalid ({details}); an edge needs `source` and "
                    "`target` node ids.",
                    edge_index=index,
                )
            )
    skeleton = Skeleton(tuple(skeleton_nodes), tuple(edges))
    graph = None
    if not problems:
        graph = Graph(nodes=tuple(nodes), edges=tuple(e for e in edges if e is not None))
    return ParseResult(graph, skeleton, tuple(nodes), tuple(problems))


def parse_graph(raw: Mapping[str, Any]) -> Graph:
    """Parse the builder's graph document; raise :class:`GraphInvalid` with every schema problem."""
    result = _parse(raw)
    if result.graph is None:
        raise GraphInvalid(result.problems)
    return result.graph


def skeleton_of(graph: Graph) -> Skeleton:
    return Skeleton(tuple((n.id, n.type) for n in graph.nodes), graph.edges)


def child_workflow_keys(raw: Mapping[str, Any]) -> frozenset[str]:
    """Keys of the workflows a graph starts as children (directly or as a for_each step),
    from the nodes that parse; a graph with other problems still names its children."""
    keys: set[str] = set()
    for node in _parse(raw).nodes:
        if isinstance(node, ChildWorkflowNode):
            keys.add(node.config.workflow)
        elif isinstance(node, ForEachNode) and isinstance(node.config.step, ChildWorkflowStep):
            keys.add(node.config.step.config.workflow)
    return frozenset(keys)
