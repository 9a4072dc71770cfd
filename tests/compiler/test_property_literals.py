"""Property: user text never becomes code.

Every string field of a graph that uses every node type gets hostile text; the generated
modules must have the same syntax tree as with a plain placeholder in that place, once
string constants and the identifiers the naming stage issued are normalised. Comments
are compared by count, since they are not in the tree.
"""

from __future__ import annotations

import ast
import copy
import io
import tokenize
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runloom.compiler import CompileOptions, parse_graph
from runloom.compiler.identifiers import assign_names
from runloom.compiler.render import render_modules

from .conftest import graph

FRAGMENTS = [
    "'",
    '"',
    "'''",
    '"""',
    "\\",
    "\\'",
    "\n",
    "\r\n",
    "\t",
    "{{",
    "}}",
    "{%",
    "%}",
    "#",
    "__import__('os').system('id')",
    "'); import os; ('",
    '"""\nimport os\n"""',
    "\\N{BULLET}",
    "\u2028",
    "\x0c",
    "é",
    "😀",
    "\u202e",
    "):\n    pass\n",
    "${x}",
    "%s",
    "{0}",
    " # ",
]

HOSTILE = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=6).map("".join),
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        min_size=1,
        max_size=40,
    ),
)

PLACEHOLDER = "x"
# Fields whose value is chosen from a fixed set, not free text.
ENUMERATED = {"type", "branch", "method"}
# Config fields holding JSON values whose keys are user text too.
JSON_FIELDS = {"headers", "body", "output", "input"}


def every_node_type() -> dict[str, Any]:
    return graph(
        [
            {"id": "start", "type": "start", "label": "Begin"},
            {
                "id": "fetch",
                "type": "http_request",
                "label": "Fetch",
                "config": {
                    "url": "https://example.test/{{ input.id }}",
                    "headers": {"h": "v"},
                    "body": {"k": "v", "list": ["a", {"n": "b"}]},
                },
                "retry": {"non_retryable_error_types": ["E"]},
            },
            {"id": "check", "type": "condition", "config": {"expression": "input.ok"}},
            {
                "id": "approval",
                "type": "wait_for_signal",
                "config": {"signal": "approve", "timeout_s": 5},
            },
            {"id": "late", "type": "transform", "config": {"output": "late"}},
            {"id": "code", "type": "python", "config": {"code": "return 1"}},
            {"id": "pause", "type": "delay", "config": {"seconds": 1}},
            {
                "id": "each",
                "type": "for_each",
                "config": {
                    "items": "input.xs",
                    "step": {"type": "python", "config": {"code": "return item"}},
                },
            },
            {
                "id": "each_http",
                "type": "for_each",
                "config": {
                    "items": "input.xs",
                    "step": {
                        "type": "http_request",
                        "config": {"url": "u", "headers": {"a": "b"}, "body": "s"},
                    },
                },
            },
            {
                "id": "each_child",
                "type": "for_each",
                "config": {
                    "items": "input.xs",
                    "step": {
                        "type": "child_workflow",
                        "config": {"workflow": "w", "input": {"a": "b"}},
                    },
                },
            },
            {
                "id": "each_shape",
                "type": "for_each",
                "config": {
                    "items": "input.xs",
                    "step": {"type": "transform", "config": {"output": {"a": "b"}}},
                },
            },
            {"id": "shape", "type": "transform", "config": {"output": {"a": "b", "c": ["d"]}}},
            {
                "id": "child",
                "type": "child_workflow",
                "config": {"workflow": "other", "input": {"a": "b"}},
            },
            {"id": "end", "type": "end", "config": {"output": {"result": "{{ steps }}"}}},
        ],
        [
            ("start", "fetch"),
            ("fetch", "check"),
            ("check", "approval", "true"),
            ("check", "shape", "false"),
            ("approval", "code"),
            ("approval", "late", "timeout"),
            ("late", "end"),
            ("code", "pause"),
            ("pause", "each"),
            ("each", "each_http"),
            ("each_http", "each_child"),
            ("each_child", "each_shape"),
            ("each_shape", "end"),
            ("shape", "child"),
            ("child", "end"),
        ],
    )


Path = tuple[Any, ...]


def _in_json_value(path: Path) -> bool:
    """True when ``path`` is a dict inside a JSON field the user writes freely."""
    return any(path[i] == "config" and path[i + 1] in JSON_FIELDS for i in range(len(path) - 1))


def string_slots(value: Any, path: Path = ()) -> Iterator[tuple[Path, bool]]:
    """(path, is_key) of every free-text string in the document."""
    if isinstance(value, dict):
        for key, item in value.items():
            if _in_json_value(path):
                yield (*path, key), True
            if key in ENUMERATED or path == ("edges",):
                continue
            yield from string_slots(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from string_slots(item, (*path, index))
    elif isinstance(value, str) and path[0] != "edges":
        yield path, False


def _replace(doc: dict[str, Any], path: Path, is_key: bool, text: str) -> None:
    parent: Any = doc
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if is_key:
        parent[text] = parent.pop(last)
        return
    old = parent[last]
    parent[last] = text
    if path[0] == "nodes" and path[-1] == "id":
        for edge in doc["edges"]:
            for end in ("source", "target"):
                if edge[end] == old:
                    edge[end] = text


BASE = every_node_type()
SLOTS = sorted(set(string_slots(BASE)), key=repr)


class _Normalise(ast.NodeTransformer):
    def __init__(self, names: list[str]) -> None:
        self.names = {name: f"NAME{i}" for i, name in enumerate(names)}

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        return ast.Constant("S") if isinstance(node.value, str) else node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self.names.get(node.id, node.id)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        node.attr = self.names.get(node.attr, node.attr)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self.generic_visit(node)
        node.name = self.names.get(node.name, node.name)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]


def _shape(doc: dict[str, Any]) -> list[tuple[str, int]]:
    parsed = parse_graph(doc)
    names = assign_names(parsed, workflow_key="wf", version=1)
    modules = render_modules(
        parsed,
        names=names,
        workflow_key="wf",
        version=1,
        options=CompileOptions(child_workflow_types={"other": "other@v2"}),
    )
    shapes = []
    for source in (modules.workflow_code, modules.activities_code):
        tree = _Normalise(names.all()).visit(ast.parse(source))
        comments = sum(
            1
            for tok in tokenize.generate_tokens(io.StringIO(source).readline)
            if tok.type == tokenize.COMMENT
        )
        shapes.append((ast.dump(tree), comments))
    return shapes


def _with(texts: dict[tuple[Path, bool], str]) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    # Keys before values of the same parent would change paths: replace values first,
    # deepest keys first.
    for (path, is_key), text in sorted(texts.items(), key=lambda kv: (kv[0][1], -len(kv[0][0]))):
        _replace(doc, path, is_key, text)
    return doc


def _keys(value: Any) -> int:
    if isinstance(value, dict):
        return len(value) + sum(_keys(v) for v in value.values())
    if isinstance(value, list):
        return sum(_keys(v) for v in value)
    return 0


def test_slots_cover_every_node_type() -> None:
    touched = {BASE["nodes"][path[1]]["type"] for path, _ in SLOTS}
    assert touched == {n["type"] for n in BASE["nodes"]}
    assert len(SLOTS) > 40


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(slot=st.sampled_from(SLOTS), text=HOSTILE)
def test_one_hostile_field_keeps_code_shape(slot: tuple[Path, bool], text: str) -> None:
    # Placeholders differ per slot only where uniqueness matters (ids, keys).
    plain = _with({slot: PLACEHOLDER + "_plain"})
    hostile = _with({slot: text})
    if hostile == plain or _keys(hostile) != _keys(plain):
        # Unchanged, or a key renamed onto its sibling's: that is a smaller document,
        # not the same one with hostile text.
        return
    try:
        hostile_shape = _shape(hostile)
    except Exception as err:  # a schema rejection (e.g. duplicate id) is fine, code is not
        assert type(err).__name__ == "GraphInvalid", err
        return
    assert hostile_shape == _shape(plain)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(HOSTILE, min_size=len(SLOTS), max_size=len(SLOTS)))
def test_every_field_hostile_at_once(texts: list[str]) -> None:
    # Suffix with the slot index so ids and keys stay unique, as they must.
    hostile = _with(
        {slot: f"{text}{i}" for i, (slot, text) in enumerate(zip(SLOTS, texts, strict=True))}
    )
    plain = _with({slot: f"p{i}" for i, slot in enumerate(SLOTS)})
    assert _shape(hostile) == _shape(plain)
