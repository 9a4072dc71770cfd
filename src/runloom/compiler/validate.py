"""Validate stage: every problem of a parsed graph, each naming its node or edge.

Limits (stated once, here and in :mod:`runloom.compiler.model`): 200 nodes, 500 edges,
256 KiB of graph JSON nested at most 64 levels, 64 KiB of code per python node,
concurrency 1..100, delays up to one year, activity timeouts up to one day. Templates and
code that Jinja or Python cannot parse for their depth, and constant template arithmetic
over the sandbox's limits (:mod:`runloom_runtime.template_limits`), are problems too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from jinja2 import TemplateSyntaxError

from runloom.compiler.errors import Problem
from runloom.compiler.model import (
    MAX_PYTHON_BYTES,
    ActivityNode,
    ChildWorkflowConfig,
    ChildWorkflowNode,
    ConditionNode,
    EndNode,
    ForEachNode,
    Graph,
    HttpRequestNode,
    Node,
    PythonConfig,
    PythonNode,
    TransformNode,
    WaitForSignalNode,
)
from runloom.compiler.options import DEFAULT_OPTIONS, CompileOptions
from runloom.compiler.parse import skeleton_of
from runloom.compiler.secret_refs import http_fields, secret_problems, template_strings
from runloom.compiler.step_refs import unknown_step_problems
from runloom.compiler.structure import check_structure
from runloom_runtime import python_node, templates

__all__ = [
    "WORKFLOW_KEY_PATTERN",
    "check_nodes",
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
        *unknown_step_problems(graph.nodes),
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


# --- node contents --------------------------------------------------------------------


def _template_problems(node_id: str, fields: Iterable[tuple[str, Any]]) -> list[Problem]:
    problems = []
    for root, value in fields:
        for where, text in template_strings(value, root):
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
    except python_node.NestedTooDeeplyError as err:
        return [
            Problem("python_too_deep", f"node {node_id!r}: in {where}, {err.msg}.", node_id=node_id)
        ]
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
        problems.extend(secret_problems(node, secret_names=options.secret_names))
        if isinstance(node, ActivityNode):
            problems.extend(_activity_problems(node))
        if isinstance(node, EndNode):
            problems.extend(_template_problems(node.id, [("config.output", node.config.output)]))
        elif isinstance(node, HttpRequestNode):
            problems.extend(_template_problems(node.id, http_fields(node.config, "config.")))
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
                problems.extend(_template_problems(node.id, http_fields(step.config, where)))
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
