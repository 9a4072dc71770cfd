"""Which project secrets a node reads, and what of the run its templates read: found in
the syntax trees of its templates (Jinja's) and code (Python's), never by running them.

A template names a secret only as ``secrets.NAME`` or ``secrets['NAME']``: the name must
be known when the graph compiles, so that a missing secret is a problem on its node (not
an empty string at run time), and so that the compiler knows the node reads secrets at
all, and renders its templates inside its activity (:mod:`runloom_runtime.secret_steps`)
rather than in workflow code. Python code may use ``secrets`` as it likes: its constant
reads (``secrets["NAME"]``, ``secrets.get("NAME")``) are checked, and any use of the name
makes the node one whose activity fetches secrets.

Only http_request and transform templates (and for_each steps of those types) and python
code run in an activity. Everything else is evaluated in workflow code, whose values
Temporal records: ``secrets`` in an end node's output, a condition, a for_each's items or
a child workflow's input is a problem.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from jinja2 import TemplateSyntaxError, nodes

from runloom import naming
from runloom.compiler.errors import Problem
from runloom.compiler.model import (
    ChildWorkflowNode,
    ConditionNode,
    EndNode,
    ForEachNode,
    HttpRequestConfig,
    HttpRequestNode,
    Node,
    PythonNode,
    TransformNode,
)
from runloom_runtime import templates

__all__ = [
    "SECRET_NAME",
    "SecretUse",
    "TemplateReads",
    "http_fields",
    "python_code",
    "python_reads",
    "secret_problems",
    "secret_use",
    "template_fields",
    "template_reads",
    "template_strings",
]

SECRETS = "secrets"
# What a secret may be called (the secrets store checks the same when one is set).
SECRET_NAME = re.compile(naming.SECRET_NAME_PATTERN)
# The names templates see besides `secrets` (runloom_runtime.graph.GraphRun.scope).
SCOPE_ROOTS = ("input", "steps", "item", "index", "error")
_SHAPE_HINT = (
    "write the name out, as secrets.NAME or secrets['NAME'] (a secret name is upper-case "
    "letters, digits and _, e.g. secrets.API_TOKEN)"
)


def template_strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every string inside a JSON value, with where it is (``config.headers.x``)."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from template_strings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from template_strings(item, f"{where}[{i}]")


def http_fields(config: HttpRequestConfig, prefix: str) -> list[tuple[str, Any]]:
    """The templates of an http request: where they are, and their values."""
    return [
        (f"{prefix}url", config.url),
        (f"{prefix}headers", dict(config.headers)),
        (f"{prefix}body", config.body),
    ]


def python_code(node: Node) -> str | None:
    """The code a python node (or a for_each's python step) runs; None for other nodes."""
    if isinstance(node, PythonNode):
        return node.config.code
    if isinstance(node, ForEachNode) and node.config.step.type == "python":
        return node.config.step.config.code
    return None


@dataclass(frozen=True)
class TemplateReads:
    """What some templates read: secrets named, scope roots (of :data:`SCOPE_ROOTS`),
    the step ids read by a constant name (None when some step is read by a computed
    one), and the uses of ``secrets`` that name no secret, each phrased with its place."""

    secrets: frozenset[str] = frozenset()
    roots: frozenset[str] = frozenset()
    step_ids: frozenset[str] | None = frozenset()
    misuses: tuple[str, ...] = ()

    @property
    def mention_secrets(self) -> bool:
        return bool(self.secrets or self.misuses)


@dataclass
class _Found:
    secrets: set[str] = field(default_factory=set)
    roots: set[str] = field(default_factory=set)
    step_ids: set[str] = field(default_factory=set)
    any_step: bool = False
    misuses: list[str] = field(default_factory=list)

    def frozen(self) -> TemplateReads:
        return TemplateReads(
            secrets=frozenset(self.secrets),
            roots=frozenset(self.roots),
            step_ids=None if self.any_step else frozenset(self.step_ids),
            misuses=tuple(self.misuses),
        )


def _constant_key(node: nodes.Getattr | nodes.Getitem) -> str | None:
    if isinstance(node, nodes.Getattr):
        return node.attr
    arg = node.arg
    return arg.value if isinstance(arg, nodes.Const) and isinstance(arg.value, str) else None


def _walk(tree: nodes.Node, found: _Found, where: str) -> None:
    claimed: set[int] = set()  # `secrets` / `steps` names already read through a key
    stack = [tree]
    while stack:  # without recursion: a tree may be as deep as Jinja's parser allowed
        node = stack.pop()
        stack.extend(node.iter_child_nodes())  # visited after `node`, so claims hold
        if isinstance(node, nodes.Getattr | nodes.Getitem) and isinstance(node.node, nodes.Name):
            name, key = node.node.name, _constant_key(node)
            if name == SECRETS:
                claimed.add(id(node.node))
                if key is not None and SECRET_NAME.fullmatch(key):
                    found.secrets.add(key)
                elif key is not None:
                    found.misuses.append(f"{where} reads secrets.{key}, not a secret name")
                else:
                    found.misuses.append(f"{where} reads secrets[...] with a computed name")
            elif name == "steps" and key is not None:
                claimed.add(id(node.node))
                found.roots.add("steps")
                found.step_ids.add(key)
        elif isinstance(node, nodes.Name) and id(node) not in claimed:
            if node.name == SECRETS:
                found.misuses.append(f"{where} uses `secrets` on its own")
            elif node.name in SCOPE_ROOTS and (node.ctx == "load" or node.name == "steps"):
                found.roots.add(node.name)
                found.any_step = found.any_step or node.name == "steps"


def template_reads(fields: Iterable[tuple[str, Any]], *, expression: bool = False) -> TemplateReads:
    """What the templates in ``fields`` (where, JSON value) read; with ``expression``, the
    values are expressions (a condition, a for_each's items). A template that does not
    parse reads nothing here: validation reports it."""
    found = _Found()
    for root, value in fields:
        for where, text in template_strings(value, root):
            try:
                tree = (
                    templates.expression_tree(text) if expression else templates.template_tree(text)
                )
            except (TemplateSyntaxError, RecursionError, SyntaxError, MemoryError):
                continue
            _walk(tree, found, where)
    return found.frozen()


def _secrets_key(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == SECRETS


def _constant_str(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def python_reads(code: str) -> tuple[frozenset[str], bool]:
    """The secrets python ``code`` reads by constant name, and whether it uses the name
    ``secrets`` at all (then its activity fetches them)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return frozenset(), False  # validation reports it
    names: set[str] = set()
    uses = False
    for node in ast.walk(tree):
        name: str | None = None
        if isinstance(node, ast.Name) and node.id == SECRETS:
            uses = True
        elif isinstance(node, ast.Subscript) and _secrets_key(node.value):
            name = _constant_str(node.slice)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and _secrets_key(node.func.value)
            and node.args
        ):
            name = _constant_str(node.args[0])
        if name is not None:
            names.add(name)
    return frozenset(names), uses


@dataclass(frozen=True)
class _Templates:
    """A node's templates: those rendered in its activity when they read secrets, those
    always evaluated in workflow code, and its expressions (workflow code too)."""

    activity: list[tuple[str, Any]] = field(default_factory=list)
    workflow: list[tuple[str, Any]] = field(default_factory=list)
    expressions: list[tuple[str, Any]] = field(default_factory=list)


def _templates(node: Node) -> _Templates:
    if isinstance(node, HttpRequestNode):
        return _Templates(activity=http_fields(node.config, "config."))
    if isinstance(node, TransformNode):
        return _Templates(activity=[("config.output", node.config.output)])
    if isinstance(node, EndNode):
        return _Templates(workflow=[("config.output", node.config.output)])
    if isinstance(node, ConditionNode):
        return _Templates(expressions=[("config.expression", node.config.expression)])
    if isinstance(node, ChildWorkflowNode):
        return _Templates(workflow=[("config.input", node.config.input)])
    if not isinstance(node, ForEachNode):
        return _Templates()
    parts = _Templates(expressions=[("config.items", node.config.items)])
    step, where = node.config.step, "config.step.config."
    if step.type == "http_request":
        parts.activity.extend(http_fields(step.config, where))
    elif step.type == "transform":
        parts.activity.append((where + "output", step.config.output))
    elif step.type == "child_workflow":
        parts.workflow.append((where + "input", step.config.input))
    return parts


def template_fields(node: Node) -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    """A node's template fields and its expression fields: (where, JSON value) each."""
    parts = _templates(node)
    return [*parts.activity, *parts.workflow], parts.expressions


@dataclass(frozen=True)
class SecretUse:
    """How a node that uses secrets does: the names it reads by constant (sorted), and for
    templates what they read of the run (None for python code)."""

    names: tuple[str, ...]
    reads: TemplateReads | None


def secret_use(node: Node) -> SecretUse | None:
    """How ``node`` uses secrets, None if it does not (it then compiles as it always did)."""
    code = python_code(node)
    if code is not None:
        names, uses = python_reads(code)
        return SecretUse(names=tuple(sorted(names)), reads=None) if uses else None
    reads = template_reads(_templates(node).activity)
    if not reads.mention_secrets:
        return None
    return SecretUse(names=tuple(sorted(reads.secrets)), reads=reads)


def secret_problems(node: Node, *, secret_names: frozenset[str] | None) -> list[Problem]:
    """``secrets`` where no activity resolves them, uses that name no secret, and (unless
    ``secret_names`` is None) secrets the project does not have."""
    parts = _templates(node)
    problems = []
    for fields, expression in ((parts.workflow, False), (parts.expressions, True)):
        places = [place for root, value in fields for place in template_strings(value, root)]
        for where, text in places:
            if template_reads([(where, text)], expression=expression).mention_secrets:
                problems.append(
                    Problem(
                        "secret_outside_activity",
                        f"node {node.id!r}: {where} reads `secrets`, but secrets are "
                        "available only in http_request, transform and python nodes, which "
                        "resolve them inside their activity (never in workflow code, whose "
                        "values Temporal records); read the secret in such a node instead.",
                        node_id=node.id,
                    )
                )
    use = secret_use(node)
    if use is None:
        return problems
    for misuse in use.reads.misuses if use.reads else ():
        problems.append(
            Problem(
                "secret_reference", f"node {node.id!r}: {misuse}; {_SHAPE_HINT}.", node_id=node.id
            )
        )
    for name in use.names:
        if secret_names is not None and name not in secret_names:
            problems.append(
                Problem(
                    "unknown_secret",
                    f"node {node.id!r} reads secret {name!r}, which this project does not "
                    "have; add it in the project's Secrets tab (or correct the name).",
                    node_id=node.id,
                )
            )
    return problems
