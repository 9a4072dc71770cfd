"""Options of a compilation (the seed's ``includeComments`` / ``strictMode``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["DEFAULT_OPTIONS", "CompileOptions"]


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
    """

    include_comments: bool = True
    strict_mode: bool = True
    child_workflow_types: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def to_json_dict(self) -> dict[str, object]:
        return {
            "include_comments": self.include_comments,
            "strict_mode": self.strict_mode,
            "child_workflow_types": dict(sorted(self.child_workflow_types.items())),
        }


DEFAULT_OPTIONS = CompileOptions()
