"""Parse stage: the builder's graph document -> :class:`Graph` (see :mod:`.model`).

Every schema problem is reported at once, and what did parse is kept alongside them
(:class:`ParseResult`) so that one bad node does not hide the problems of the rest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from runloom.compiler.errors import GraphInvalid, Problem
from runloom.compiler.model import (
    MAX_EDGES,
    MAX_GRAPH_BYTES,
    MAX_GRAPH_DEPTH,
    MAX_NODES,
    NODE_TYPES,
    ChildWorkflowNode,
    ChildWorkflowStep,
    Edge,
    ForEachNode,
    Graph,
    GraphSettings,
    Node,
)

__all__ = [
    "ParseResult",
    "Skeleton",
    "child_workflow_keys",
    "parse_graph",
    "skeleton_of",
]

_NODE_ADAPTER: TypeAdapter[Node] = TypeAdapter(Node)
_EDGE_ADAPTER: TypeAdapter[Edge] = TypeAdapter(Edge)
_SETTINGS_ADAPTER: TypeAdapter[GraphSettings] = TypeAdapter(GraphSettings)


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


def _unparsed(*problems: Problem) -> ParseResult:
    return ParseResult(None, Skeleton((), ()), (), problems)


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether lists and objects nest more than ``limit`` levels in ``value`` (without
    recursion, which such a value would exhaust)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping | list | tuple):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, Mapping) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def _document_lists(raw: Mapping[str, Any]) -> tuple[list[Any], list[Any]] | Problem:
    """The raw node and edge lists, or the one problem that stops parsing before them."""
    if not isinstance(raw, Mapping):
        return Problem("invalid_graph", "the graph must be a JSON object with nodes and edges.")
    if _deeper_than(raw, MAX_GRAPH_DEPTH):
        return Problem(
            "graph_too_deep",
            f"the graph nests lists and objects more than {MAX_GRAPH_DEPTH} levels deep; "
            "flatten the values in its nodes' configs.",
        )
    try:
        size = len(json.dumps(raw, allow_nan=False, separators=(",", ":")).encode())
    except (TypeError, ValueError) as err:
        return Problem("invalid_graph", f"the graph is not valid JSON data: {err}.")
    if size > MAX_GRAPH_BYTES:
        return Problem(
            "graph_too_large",
            f"the graph is {size} bytes of JSON; the limit is {MAX_GRAPH_BYTES} bytes "
            "(256 KiB). Split it into child workflows.",
        )
    raw_nodes = raw.get("nodes")
    raw_edges = raw.get("edges", [])
    if not isinstance(raw_nodes, list) or not isinstance(raw_edges, list):
        return Problem("invalid_graph", "the graph needs a list of `nodes` and a list of `edges`.")
    return raw_nodes, raw_edges


def _count_problems(raw_nodes: list[Any], raw_edges: list[Any]) -> list[Problem]:
    problems = []
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
    return problems


def _parse_nodes(
    raw_nodes: list[Any],
) -> tuple[list[Node], list[tuple[str, str]], list[Problem]]:
    """The nodes that parse, the skeleton of every node with an id, and the problems."""
    nodes: list[Node] = []
    skeleton_nodes: list[tuple[str, str]] = []
    problems: list[Problem] = []
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
    return nodes, skeleton_nodes, problems


def _parse_edges(raw_edges: list[Any]) -> tuple[list[Edge | None], list[Problem]]:
    """One entry per raw edge (None where it is invalid, so indexes still match), and the
    problems."""
    edges: list[Edge | None] = []
    problems: list[Problem] = []
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
    return edges, problems


def _parse_settings(raw_settings: Any) -> tuple[GraphSettings, list[Problem]]:
    """The graph's ``settings`` (absent or null: the defaults), and their problems."""
    if raw_settings is None:
        return GraphSettings(), []
    try:
        return _SETTINGS_ADAPTER.validate_python(raw_settings), []
    except ValidationError as err:
        problems = []
        for error in err.errors(include_url=False):
            code, msg = _describe(error)
            if error["type"] == "extra_forbidden":
                code, msg = "unknown_field", "this setting is not known; check its spelling"
            where = _where(["settings", *error["loc"]])
            problems.append(Problem(code, f"graph {where}: {msg}."))
        return GraphSettings(), problems


def _parse(raw: Mapping[str, Any]) -> ParseResult:
    lists = _document_lists(raw)
    if isinstance(lists, Problem):
        return _unparsed(lists)
    raw_nodes, raw_edges = lists
    too_many = _count_problems(raw_nodes, raw_edges)
    if too_many:
        return _unparsed(*too_many)

    nodes, skeleton_nodes, node_problems = _parse_nodes(raw_nodes)
    edges, edge_problems = _parse_edges(raw_edges)
    settings, settings_problems = _parse_settings(raw.get("settings"))
    problems = [*node_problems, *edge_problems, *settings_problems]
    skeleton = Skeleton(tuple(skeleton_nodes), tuple(edges))
    graph = None
    if not problems:
        graph = Graph(
            nodes=tuple(nodes), edges=tuple(e for e in edges if e is not None), settings=settings
        )
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
