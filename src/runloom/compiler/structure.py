"""Validate stage, the graph's shape: node ids, start and end, edges and their branches
(error edges included), cycles and reachability.

These checks need only a :class:`Skeleton`, so they also run on a graph whose nodes do
not all parse.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from runloom.compiler.errors import Problem
from runloom.compiler.model import BRANCHES, ERROR_BRANCH, ERROR_EDGE_SOURCES, Edge
from runloom.compiler.parse import Skeleton

__all__ = ["check_structure"]


def check_structure(skeleton: Skeleton) -> list[Problem]:
    types, problems = _node_types(skeleton.nodes)
    starts = [i for i, t in types.items() if t == "start"]
    ends = [i for i, t in types.items() if t == "end"]
    problems.extend(_start_end_problems(starts, ends))
    successors, edge_problems = _connect_edges(skeleton.edges, types)
    problems.extend(edge_problems)
    problems.extend(_cycle_problems(list(types), successors))
    if starts:
        reachable = _reachable(starts[0], successors)
        problems.extend(_unreachable_problems(types, reachable, starts[0]))
        if ends:
            problems.extend(_dead_end_problems(types, reachable, successors, ends[0]))
    return problems


def _node_types(nodes: Sequence[tuple[str, str]]) -> tuple[dict[str, str], list[Problem]]:
    """Each node id's type (a repeated id keeps its first node's type), and the repeats."""
    problems: list[Problem] = []
    types: dict[str, str] = {}
    for node_id, node_type in nodes:
        if node_id in types:
            problems.append(
                Problem(
                    "duplicate_node_id",
                    f"node id {node_id!r} is used by more than one node; "
                    "give each node its own id.",
                    node_id=node_id,
                )
            )
        else:
            types[node_id] = node_type
    return types, problems


def _start_end_problems(starts: Sequence[str], ends: Sequence[str]) -> list[Problem]:
    problems: list[Problem] = []
    if not starts:
        problems.append(Problem("missing_start", "the graph has no start node; add exactly one."))
    for extra in starts[1:]:
        problems.append(
            Problem(
                "multiple_starts",
                f"node {extra!r} is a second start node (the first is {starts[0]!r}); "
                "keep exactly one start.",
                node_id=extra,
            )
        )
    if not ends:
        problems.append(
            Problem(
                "missing_end", "the graph has no end node; add one and connect the last step to it."
            )
        )
    for extra in ends[1:]:
        problems.append(
            Problem(
                "multiple_ends",
                f"node {extra!r} is a second end node (the first is {ends[0]!r}); "
                "join the branches into a single end node.",
                node_id=extra,
            )
        )
    return problems


def _connect_edges(
    edges: Sequence[Edge | None], types: dict[str, str]
) -> tuple[dict[str, list[str]], list[Problem]]:
    """The successors of each node and every edge's problems.

    Only edges between known nodes, and only the first of a repeated edge, join the graph
    that cycles and reachability are checked on.
    """
    successors: dict[str, list[str]] = defaultdict(list)
    seen_edges: set[tuple[str, str, str | None]] = set()
    # An error edge counts like any other for reachability and joins: a node after it
    # waits for its source to settle, like a node after a condition's branch.
    error_edges: dict[str, int] = {}
    problems: list[Problem] = []
    for index, edge in enumerate(edges):
        if edge is None:
            continue
        unknown = _unknown_endpoint_problems(index, edge, types)
        if unknown:
            problems.extend(unknown)
            continue
        key = (edge.source, edge.target, edge.branch)
        if key in seen_edges:
            problems.append(
                Problem(
                    "duplicate_edge",
                    f"edge #{index} repeats the edge {edge.source!r} -> {edge.target!r}; "
                    "remove it.",
                    node_id=edge.source,
                    edge_index=index,
                )
            )
            continue
        seen_edges.add(key)
        if edge.branch == ERROR_BRANCH and types[edge.source] in ERROR_EDGE_SOURCES:
            problems.extend(_second_error_edge(index, edge, error_edges))
        successors[edge.source].append(edge.target)
        problems.extend(_branch_problems(index, edge.source, edge.target, edge.branch, types))
        problems.extend(_start_end_edge_problems(index, edge, types))
    return successors, problems


def _unknown_endpoint_problems(index: int, edge: Edge, types: dict[str, str]) -> list[Problem]:
    problems = []
    for role, ref in (("source", edge.source), ("target", edge.target)):
        if ref not in types:
            problems.append(
                Problem(
                    f"edge_unknown_{role}",
                    f"edge #{index} ({edge.source!r} -> {edge.target!r}) has {role} {ref!r}, "
                    "which is not a node of this graph; remove the edge or fix the id.",
                    edge_index=index,
                )
            )
    return problems


def _start_end_edge_problems(index: int, edge: Edge, types: dict[str, str]) -> list[Problem]:
    problems = []
    if types[edge.target] == "start":
        problems.append(
            Problem(
                "start_has_incoming",
                f"edge #{index} leads into the start node {edge.target!r}; "
                "nothing may run before start.",
                node_id=edge.target,
                edge_index=index,
            )
        )
    if types[edge.source] == "end":
        problems.append(
            Problem(
                "end_has_outgoing",
                f"edge #{index} leaves the end node {edge.source!r}; the end node must be last.",
                node_id=edge.source,
                edge_index=index,
            )
        )
    return problems


def _second_error_edge(index: int, edge: Edge, error_edges: dict[str, int]) -> list[Problem]:
    first = error_edges.setdefault(edge.source, index)
    if first == index:
        return []
    return [
        Problem(
            "multiple_error_edges",
            f"edge #{index} ({edge.source!r} -> {edge.target!r}) is a second error edge of "
            f"node {edge.source!r} (the first is edge #{first}); a node has at most one "
            "error path: fan out after its first node instead.",
            node_id=edge.source,
            edge_index=index,
        )
    ]


def _branch_problems(
    index: int, source: str, target: str, branch: str | None, types: dict[str, str]
) -> list[Problem]:
    source_type = types[source]
    allowed = BRANCHES.get(source_type, (None,))
    if branch in allowed:
        return []
    edge = f"edge #{index} ({source!r} -> {target!r})"
    if branch == ERROR_BRANCH:
        return [
            Problem(
                "error_edge_not_allowed",
                f"{edge} is an error edge, but a {source_type} node cannot fail on its own; "
                "only " + ", ".join(ERROR_EDGE_SOURCES) + " nodes take an error edge.",
                node_id=source,
                edge_index=index,
            )
        ]
    if source_type == "condition" and branch is None:
        return [
            Problem(
                "missing_branch",
                f"{edge} leaves condition node {source!r} without a branch; "
                'label it "true" or "false".',
                node_id=source,
                edge_index=index,
            )
        ]
    if source_type == "condition":
        hint = 'use "true" or "false"'
    elif source_type == "wait_for_signal":
        hint = 'use "timeout" for the timeout path, or no branch for the signal path'
    elif source_type in ERROR_EDGE_SOURCES:
        hint = f'use "{ERROR_BRANCH}" for the error path, or no branch'
    else:
        hint = f"only condition and wait_for_signal edges take a branch; {source_type} edges do not"
    return [
        Problem(
            "bad_branch",
            f"{edge} has branch {branch!r}, which node {source!r} cannot take; {hint}.",
            node_id=source,
            edge_index=index,
        )
    ]


def _reachable(root: str, successors: dict[str, list[str]]) -> set[str]:
    seen = {root}
    stack = [root]
    while stack:
        for nxt in successors.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _unreachable_problems(types: dict[str, str], reachable: set[str], start: str) -> list[Problem]:
    problems = []
    for node_id in types:
        if node_id not in reachable:
            problems.append(
                Problem(
                    "unreachable_node",
                    f"node {node_id!r} cannot be reached from the start node {start!r}; "
                    "connect it or delete it.",
                    node_id=node_id,
                )
            )
    return problems


def _dead_end_problems(
    types: dict[str, str], reachable: set[str], successors: dict[str, list[str]], end: str
) -> list[Problem]:
    predecessors: dict[str, list[str]] = defaultdict(list)
    for source, targets in successors.items():
        for target in targets:
            predecessors[target].append(source)
    leads_to_end = _reachable(end, predecessors)
    problems = []
    for node_id in types:
        if node_id in reachable and node_id not in leads_to_end:
            problems.append(
                Problem(
                    "dead_end",
                    f"no path leads from node {node_id!r} to the end node "
                    f"{end!r}, so its "
                    "result is never used; connect it onward.",
                    node_id=node_id,
                    severity="warning",
                )
            )
    return problems


def _cycle_problems(node_ids: Sequence[str], successors: dict[str, list[str]]) -> list[Problem]:
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(node_ids, white)
    problems: list[Problem] = []
    for root in node_ids:
        if colour[root] != white:
            continue
        path: list[str] = [root]
        iterators = [iter(successors.get(root, ()))]
        colour[root] = grey
        while iterators:
            nxt = next(iterators[-1], None)
            if nxt is None:
                colour[path.pop()] = black
                iterators.pop()
            elif colour[nxt] == grey:
                cycle = [*path[path.index(nxt) :], nxt]
                problems.append(
                    Problem(
                        "cycle",
                        "the graph loops: "
                        + " -> ".join(repr(n) for n in cycle)
                        + "; remove one of these edges (loop over data with a for_each node).",
                        node_id=nxt,
                    )
                )
            elif colour[nxt] == white:
                colour[nxt] = grey
                path.append(nxt)
                iterators.append(iter(successors.get(nxt, ())))
    return problems
