"""References to steps that do not exist: ``{{ steps.nope }}`` in a template or
``steps.nope`` in an expression names no node of the graph, so it would only ever be
empty. Each is a problem on the node that reads it, naming where."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from runloom.compiler.errors import Problem
from runloom.compiler.model import Node
from runloom.compiler.secret_refs import template_fields, template_reads, template_strings

__all__ = ["unknown_step_problems"]

_METHODS = frozenset(name for name in dir(dict) if not name.startswith("_"))


def _hint(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"did you mean steps.{close[0]}?" if close else "check the node id"


def unknown_step_problems(nodes: Sequence[Node]) -> list[Problem]:
    """A problem for each template or expression that reads ``steps.<id>`` of no node."""
    known = sorted(node.id for node in nodes)
    problems = []
    for node in nodes:
        templates, expressions = template_fields(node)
        for fields, expression in ((templates, False), (expressions, True)):
            for root, value in fields:
                for where, text in template_strings(value, root):
                    reads = template_reads([(where, text)], expression=expression)
                    # `steps.get(...)`, `steps.items()`: the mapping's own methods
                    names = (reads.step_ids or frozenset()) - set(known) - _METHODS
                    for name in sorted(names):
                        problems.append(
                            Problem(
                                "unknown_step",
                                f"node {node.id!r}: {where} reads steps.{name}, but no step "
                                f"has the id {name!r}; {_hint(name, known)}",
                                node_id=node.id,
                            )
                        )
    return problems
