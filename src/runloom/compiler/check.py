"""Check stage: every generated module must parse and compile.

A failure here is a compiler bug, never the user's fault, so it is its own exception.
"""

from __future__ import annotations

import ast

from runloom.compiler.errors import GeneratedCodeInvalid

__all__ = ["check_module"]


def check_module(source: str, *, filename: str) -> ast.Module:
    """Compile ``source``; return its syntax tree or raise :class:`GeneratedCodeInvalid`."""
    try:
        tree = ast.parse(source, filename=filename)
        compile(tree, filename, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as err:
        raise GeneratedCodeInvalid(f"generated {filename} does not compile: {err}") from err
    return tree
