"""Name stage: safe, stable Python identifiers for the workflow and its nodes.

Identifiers are built only from ASCII letters, digits and underscores taken from the ids,
so user text can never become anything but a plain name; ids that leave nothing usable
fall back to their position. The same graph always gets the same names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runloom.compiler.model import Graph

__all__ = ["Names", "assign_names", "class_name", "slug"]

_MAX_SLUG = 40


def slug(text: str) -> str:
    """Lower-case ASCII identifier fragment of ``text`` (may be empty)."""
    lowered = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return lowered[:_MAX_SLUG].rstrip("_")


def class_name(workflow_key: str, version: int) -> str:
    parts = [p for p in re.split(r"[^a-zA-Z0-9]+", workflow_key) if p]
    base = "".join(p[:1].upper() + p[1:] for p in parts) or "Graph"
    if base[0].isdigit():
        base = "W" + base
    return f"{base}V{version}Workflow"


@dataclass(frozen=True)
class Names:
    """Identifiers issued for one graph, keyed by node id."""

    workflow_class: str
    methods: dict[str, str]  # workflow method running the node, e.g. `_node_fetch`
    activities: dict[str, str]  # activity function, e.g. `fetch_activity`
    constants: dict[str, str]  # module constant holding python code, e.g. `FETCH_CODE`
    # Module constant holding templates rendered in the activity, e.g. `FETCH_TEMPLATE`.
    templates: dict[str, str]

    def all(self) -> list[str]:
        return [
            self.workflow_class,
            *self.methods.values(),
            *self.activities.values(),
            *self.constants.values(),
            *self.templates.values(),
        ]


def assign_names(graph: Graph, *, workflow_key: str, version: int) -> Names:
    used: set[str] = set()
    bases: dict[str, str] = {}
    for index, node in enumerate(graph.nodes):
        base = slug(node.id) or f"node{index}"
        # Every use adds a prefix or suffix (`_node_x`, `x_activity`, `X_CODE`), so keywords
        # are harmless; a leading digit is not.
        if base[0].isdigit():
            base = f"n{base}"
        candidate, n = base, 2
        while candidate in used:
            candidate = f"{base}_{n}"
            n += 1
        used.add(candidate)
        bases[node.id] = candidate
    return Names(
        workflow_class=class_name(workflow_key, version),
        methods={i: f"_node_{b}" for i, b in bases.items()},
        activities={i: f"{b}_activity" for i, b in bases.items()},
        constants={i: f"{b.upper()}_CODE" for i, b in bases.items()},
        templates={i: f"{b.upper()}_TEMPLATE" for i, b in bases.items()},
    )
