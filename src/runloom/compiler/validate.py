"""Validate stage: every problem of a parsed graph, each naming its node or edge.

Limits (stated once, here and in :mod:`runloom.compiler.model`): 200 nodes, 500 edges,
256 KiB of graph JSON, 64 KiB of code per python node, concurrency 1..100, delays up to
one year, activity timeouts up to one day.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from jinja2 import TemplateSyntaxError

from runloom.compiler.errors import Problem
from runloom.compiler.model import (
    BRANCHES,
    MAX_PYTHON_BYTES,
    ActivityNode,
    ChildWorkflowConfig,
    ChildWorkflowNode,
    ConditionNode,
    EndNode,
    ForEachNode,
    Graph,
    HttpRequestConfig,
    HttpRequestNode,
    Node,
    PythonConfig,
    PythonNode,
    Skeleton,
    TransformNode,
    WaitForSignalNode,
    skeleton_of,
)
from runloom.compiler.options import DEFAULT_OPTIONS, CompileOptions
from runloom_runtime import python_node, templates

__all__ = [
    "WORKFLOW_KEY_PATTERN",
    "check_nodes",
    "check_structure",
    "check_timeouts",
    "check_workflow_key",
    "validate_graph",
]

WORKFLOW_KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")


def validate_graph(
    graph: Graph, *, options: CompileOptions = DEFAULT_OPTIONS
) -> tuple[Problem, ...]:
    """Every error and warning of ``graph`` (see :class:`Problem.severity`)."""
    return (
        *check_structure(skeleton_of(graph)),
        *check_nodes(graph.nodes, options=options),
        *check_timeouts(graph.nodes, graph.edges),
    )


def check_workflow_key(key: str, version: int) -> list[Problem]:
    problems = []
    if not isinstance(key, str) or WORKFLOW_KEY_PATTERN.fullmatch(key) is None:
        problems.append(
            Problem(
                "invalid_workflow_key",
                f"workflow key {key!r} is not a slug: use 1-100 characters of a-z, 0-9, `_` and "
                "`-`, starting with a letter or digit.",
            )
        )
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        problems.append(Problem("invalid_version", f"version {version!r} must be an integer >= 1."))
    return problems


# --- structure ------------------------------------------------------------------------


def check_structure(skeleton: Skeleton) -> list[Problem]:
    problems: list[Problem] = []
    types: dict[str, str] = {}
    for node_id, node_type in skeleton.nodes:
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

    starts = [i for i, t in types.items() if t == "start"]
    ends = [i for i, t in types.items() if t == "end"]
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

    successors: dict[str, list[str]] = defaultdict(list)
    seen_edges: set[tuple[str, str, str | None]] = set()
    for index, edge in enumerate(skeleton.edges):
        if edge is None:
            continue
        ok = True
        for role, ref in (("source", edge.source), ("target", edge.target)):
            if ref not in types:
                ok = False
                problems.append(
                    Problem(
                        f"edge_unknown_{role}",
                        f"edge #{index} ({edge.source!r} -> {edge.target!r}) has {role} {ref!r}, "
                        "which is not a node of this graph; remove the edge or fix the id.",
                        edge_index=index,
                    )
                )
        if not ok:
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
        successors[edge.source].append(edge.target)
        problems.extend(_branch_problems(index, edge.source, edge.target, edge.branch, types))
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
                    f"edge #{index} leaves the end node {edge.source!r}; "
                    "the end node must be last.",
                    node_id=edge.source,
                    edge_index=index,
                )
            )

    problems.extend(_cycle_problems(list(types), successors))
    if starts:
        reachable = _reachable(starts[0], successors)
        for node_id in types:
            if node_id not in reachable:
                problems.append(
                    Problem(
                        "unreachable_node",
                        f"node {node_id!r} cannot be reached from the start node {starts[0]!r}; "
                        "connect it or delete it.",
                        node_id=node_id,
                    )
                )
        if ends:
            predecessors: dict[str, list[str]] = defaultdict(list)
            for source, targets in successors.items():
                for target in targets:
                    predecessors[target].append(source)
            leads_to_end = _reachable(ends[0], predecessors)
            for node_id in types:
                if node_id in reachable and node_id not in leads_to_end:
                    problems.append(
                        Problem(
                            "dead_end",
                            f"no path leads from node {node_id!r} to the end node "
                            f"{ends[0]!r}, so its "
                            "result is never used; connect it onward.",
                            node_id=node_id,
                            severity="warning",
                        )
                    )
    return problems


def _branch_problems(
    index: int, source: str, target: str, branch: str | None, types: dict[str, str]
) -> list[Problem]:
    source_type = types[source]
    allowed = BRANCHES.get(source_type, (None,))
    if branch in allowed:
        return []
    edge = f"edge #{index} ({source!r} -> {target!r})"
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


# --- node contents --------------------------------------------------------------------


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{where}[{i}]")


def _template_problems(node_id: str, fields: Iterable[tuple[str, Any]]) -> list[Problem]:
    problems = []
    for root, value in fields:
        for where, text in _strings(value, root):
            try:
                templates.check_template(text)
            except TemplateSyntaxError as err:
                problems.append(
                    Problem(
                        "template_syntax",
                        f"node {node_id!r}: the template in {where} is invalid: {err.message} "
                        f"(line {err.lineno}).",
                        node_id=node_id,
                    )
                )
    return problems


def _expression_problem(node_id: str, where: str, source: str) -> list[Problem]:
    try:
        templates.check_expression(source)
    except TemplateSyntaxError as err:
        return [
            Problem(
                "expression_syntax",
                f"node {node_id!r}: the expression in {where} is invalid: {err.message}.",
                node_id=node_id,
            )
        ]
    return []


def _http_fields(config: HttpRequestConfig, prefix: str) -> list[tuple[str, Any]]:
    return [
        (f"{prefix}url", config.url),
        (f"{prefix}headers", dict(config.headers)),
        (f"{prefix}body", config.body),
    ]


def _python_problems(node_id: str, config: PythonConfig, where: str) -> list[Problem]:
    size = len(config.code.encode())
    if size > MAX_PYTHON_BYTES:
        return [
            Problem(
                "python_too_large",
                f"node {node_id!r}: {where} is {size} bytes; the limit is {MAX_PYTHON_BYTES} "
                "bytes (64 KiB).",
                node_id=node_id,
            )
        ]
    try:
        python_node.check_code(config.code, node_id=node_id)
    except (SyntaxError, ValueError) as err:
        line = getattr(err, "lineno", None)
        at = f" at line {line}" if line else ""
        return [
            Problem(
                "python_syntax",
                f"node {node_id!r}: {where} is not valid Python{at}: {getattr(err, 'msg', err)}.",
                node_id=node_id,
            )
        ]
    return []


def _child_problems(
    node_id: str, config: ChildWorkflowConfig, options: CompileOptions, where: str
) -> list[Problem]:
    problems = _template_problems(node_id, [(f"{where}input", config.input)])
    known = options.child_workflow_types
    if config.workflow not in known and (known or options.strict_mode):
        listed = ", ".join(repr(k) for k in sorted(known)) or "none"
        problems.append(
            Problem(
                "unknown_child_workflow",
                f"node {node_id!r} starts workflow {config.workflow!r}, which is not a workflow of "
                f"this project (known: {listed}); deploy that workflow first or fix the key.",
                node_id=node_id,
            )
        )
    return problems


def _activity_problems(node: ActivityNode) -> list[Problem]:
    problems = []
    if node.schedule_to_close_s is not None and node.schedule_to_close_s < node.timeout_s:
        problems.append(
            Problem(
                "out_of_range",
                f"node {node.id!r}: schedule_to_close_s ({node.schedule_to_close_s:g}) is shorter "
                f"than timeout_s ({node.timeout_s:g}); make it at least as long.",
                node_id=node.id,
            )
        )
    retry = node.retry
    max_interval = retry.maximum_interval_s if retry else None
    if retry and max_interval is not None and max_interval < retry.initial_interval_s:
        problems.append(
            Problem(
                "out_of_range",
                f"node {node.id!r}: retry.maximum_interval_s is shorter than "
                "retry.initial_interval_s.",
                node_id=node.id,
            )
        )
    return problems


def check_nodes(nodes: Sequence[Node], *, options: CompileOptions) -> list[Problem]:
    problems: list[Problem] = []
    for node in nodes:
        if isinstance(node, ActivityNode):
            problems.extend(_activity_problems(node))
        if isinstance(node, EndNode):
            problems.extend(_template_problems(node.id, [("config.output", node.config.output)]))
        elif isinstance(node, HttpRequestNode):
            problems.extend(_template_problems(node.id, _http_fields(node.config, "config.")))
        elif isinstance(node, TransformNode):
            problems.extend(_template_problems(node.id, [("config.output", node.config.output)]))
        elif isinstance(node, ConditionNode):
            problems.extend(
                _expression_problem(node.id, "config.expression", node.config.expression)
            )
        elif isinstance(node, PythonNode):
            problems.extend(_python_problems(node.id, node.config, "config.code"))
        elif isinstance(node, ChildWorkflowNode):
            problems.extend(_child_problems(node.id, node.config, options, "config."))
        elif isinstance(node, WaitForSignalNode):
            pass
        elif isinstance(node, ForEachNode):
            problems.extend(_expression_problem(node.id, "config.items", node.config.items))
            step = node.config.step
            where = "config.step.config."
            if step.type == "http_request":
                problems.extend(_template_problems(node.id, _http_fields(step.config, where)))
            elif step.type == "python":
                problems.extend(_python_problems(node.id, step.config, where + "code"))
            elif step.type == "transform":
                problems.extend(
                    _template_problems(node.id, [(where + "output", step.config.output)])
                )
            else:
                problems.extend(_child_problems(node.id, step.config, options, where))
    return problems


def check_timeouts(nodes: Sequence[Node], edges: Iterable[Any]) -> list[Problem]:
    """A "timeout" branch needs a timeout to ever be taken."""
    problems = []
    with_timeout_edge = {e.source for e in edges if e is not None and e.branch == "timeout"}
    for node in nodes:
        waits = isinstance(node, WaitForSignalNode) and node.config.timeout_s is None
        if waits and node.id in with_timeout_edge:
            problems.append(
                Problem(
                    "timeout_branch_without_timeout",
                    f'node {node.id!r} has a "timeout" edge but no config.timeout_s, so it '
                    "would wait for ever; set a timeout or remove the edge.",
                    node_id=node.id,
                )
            )
    return problems
