"""Options of a compilation (the seed's ``includeComments`` / ``strictMode``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["DEFAULT_OPTIONS", "CompileOptions", "RunBounds"]


@dataclass(frozen=True)
class RunBounds:
    """Bounds compiled into the generated code and enforced by ``runloom_runtime`` as the
    run goes: items one ``for_each`` node may map, and bytes of one node's output (as
    compact JSON). Compiled in rather than read at run time, so that a version replays
    under the bounds it ran with, whatever the platform's settings are by then."""

    for_each_items: int
    step_output_bytes: int

    def to_json_dict(self) -> dict[str, object]:
        return {
            "for_each_items": self.for_each_items,
            "step_output_bytes": self.step_output_bytes,
        }


@dataclass(frozen=True)
class CompileOptions:
    """How to compile.

    ``include_comments`` adds docstrings and comments that explain the generated code.

    ``strict_mode`` turns warnings into errors. Warnings are: a node from which no path
    leads to the end node (its work can never influence the result), and a
    ``child_workflow`` node naming a workflow that ``child_workflow_types`` does not list
    (in strict mode that is always an error; otherwise only when the mapping is non-empty,
    and with an empty mapping the key itself is used as the child's workflow type).

    ``child_workflow_types`` maps the key of another workflow of the project to the
    Temporal workflow type to start for it (normally its active version, ``key@vN``).

    ``bounds`` (:class:`RunBounds`) are compiled into the code; None (the compiler's
    default, and what exports of older versions carry) leaves runs unbounded. runloom's
    deploy always passes the platform's settings.

    ``secret_names`` are the names of the project's secrets: a node that names another
    secret (``{{ secrets.NAME }}``, ``secrets["NAME"]``) is a problem on that node. None
    checks no names (a compilation for no project). Values never reach the compiler, and
    the names decide no code, so they are not recorded with the options.
    """

    include_comments: bool = True
    strict_mode: bool = True
    child_workflow_types: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    bounds: RunBounds | None = None
    secret_names: frozenset[str] | None = None

    def to_json_dict(self) -> dict[str, object]:
        document: dict[str, object] = {
            "include_comments": self.include_comments,
            "strict_mode": self.strict_mode,
            "child_workflow_types": dict(sorted(self.child_workflow_types.items())),
        }
        if self.bounds is not None:
            document["bounds"] = self.bounds.to_json_dict()
        return document


DEFAULT_OPTIONS = CompileOptions()
