"""Exceptions of the compiler: one root, and the list of problems of an invalid graph."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["CompilerError", "GraphInvalid", "Problem"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a graph, phrased so that a person can fix it.

    ``severity`` is ``"warning"`` for problems that only block compilation in strict mode.
    """

    code: str
    message: str
    node_id: str | None = None
    edge_index: int | None = None
    severity: Literal["error", "warning"] = "error"


class CompilerError(Exception):
    """Root of every error the compiler raises."""


class GraphInvalid(CompilerError):
    """The graph cannot be compiled; ``problems`` lists every reason at once."""

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        self.problems = problems
        lines = "\n".join(f"- {p.message}" for p in problems)
        super().__init__(f"the workflow graph has {len(problems)} problem(s):\n{lines}")


class GeneratedCodeInvalid(CompilerError):
    """The compiler produced code that does not compile: a bug in runloom, not the graph."""
