"""Layout of generated code as ``ruff format`` (and black) lay it out, at 88 columns.

The render stage builds each statement that can grow with user data (literals, calls
with such arguments, signatures with generated names) as a small tree, and :func:`lay`
breaks it over lines the way the formatter would: on one line when it fits; else split
at its outermost brackets, with a call's arguments on one indented line when they fit
there, and otherwise one element per line with a trailing comma (which keeps the
formatter from joining them again). Strings are written with double quotes unless that
needs more escapes, as the formatter prefers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["WIDTH", "Concat", "Keyed", "Seq", "call", "flat", "lay", "signature", "string", "value"]

WIDTH = 88
_RIGHT_HAND = ("= ", "return ")


def string(text: str) -> str:
    """A string literal for ``text``: double quotes unless the text holds more of them."""
    quote = "'" if text.count('"') > text.count("'") else '"'
    out = []
    for ch in text:
        if ch in (quote, "\\"):
            out.append("\\" + ch)
        else:
            out.append(repr(ch)[1:-1])
    return quote + "".join(out) + quote


@dataclass(frozen=True)
class Seq:
    """``head item, item close``: a call (head ends with ``(``) or a collection literal."""

    head: str
    items: Sequence[Item]
    close: str
    collection: bool = False
    # The formatter keeps a sequence written with a trailing comma one item per line.
    exploded: bool = False


@dataclass(frozen=True)
class Keyed:
    """``prefix`` then an expression: ``name=value`` in a call, ``key: value`` in a dict."""

    prefix: str
    item: Item


@dataclass(frozen=True)
class Concat:
    """Adjacent string literals in parentheses: a long multi-line string, line by line."""

    pieces: Sequence[str]


Item = str | Seq | Keyed | Concat


def value(data: Any) -> Item:
    """JSON data (and tuples) as an expression to lay out."""
    if isinstance(data, dict):
        # A key stays one literal, multi-line or not: the formatter would not split it.
        items = [Keyed(f"{_key(k)}: ", value(v)) for k, v in data.items()]
        return Seq("{", items, "}", collection=True)
    if isinstance(data, list):
        return Seq("[", [value(v) for v in data], "]", collection=True)
    if isinstance(data, tuple):
        if len(data) == 1:
            return f"({flat(value(data[0]))},)"
        return Seq("(", [value(v) for v in data], ")", collection=True)
    if isinstance(data, str):
        if "\n" in data.rstrip("\n"):
            pieces = data.splitlines(keepends=True)
            if len(string(data)) > WIDTH - 4:
                return Concat([string(p) for p in pieces])
        return string(data)
    if data is None or isinstance(data, bool | int):
        return repr(data)
    if isinstance(data, float) and math.isfinite(data):
        return repr(data)
    raise TypeError(f"cannot write {type(data).__name__} as a literal")


def _key(key: Any) -> str:
    return string(key) if isinstance(key, str) else flat(value(key))


def flat(item: Item) -> str:
    """The expression on one line."""
    if isinstance(item, str):
        return item
    if isinstance(item, Keyed):
        return item.prefix + flat(item.item)
    if isinstance(item, Concat):
        return "(" + " ".join(item.pieces) + ")"
    return item.head + ", ".join(flat(i) for i in item.items) + item.close


def _splittable(item: Item) -> bool:
    inner = item.item if isinstance(item, Keyed) else item
    return isinstance(inner, Concat) or (isinstance(inner, Seq) and bool(inner.items))


def lay(item: Item, indent: int = 0, prefix: str = "", suffix: str = "") -> list[str]:
    """The lines of ``prefix`` + ``item`` + ``suffix`` starting at column ``indent``."""
    pad = " " * indent
    if isinstance(item, Keyed):
        return lay(item.item, indent, prefix + item.prefix, suffix)
    exploded = isinstance(item, Seq) and item.exploded
    one_line = pad + prefix + flat(item) + suffix
    inner = pad + "    "
    if (len(one_line) <= WIDTH and not exploded) or not _splittable(item):
        # A value too long after `x = ` that fits alone goes in parentheses.
        alone = inner + flat(item)
        if len(one_line) > WIDTH and prefix.endswith(_RIGHT_HAND) and len(alone) <= WIDTH:
            return [pad + prefix + "(", alone, pad + ")" + suffix]
        return [one_line]
    if isinstance(item, Concat):
        return [pad + prefix + "(", *(inner + p for p in item.pieces), pad + ")" + suffix]
    assert isinstance(item, Seq)
    body = ", ".join(flat(i) for i in item.items)
    # A call's arguments are kept together when they fit; a literal's only when it has one
    # element (the formatter splits at commas, and adds a trailing comma, only when there
    # are commas to split at).
    single = not item.collection or len(item.items) == 1
    together = single and not (exploded or any(isinstance(i, Concat) for i in item.items))
    if together and len(inner + body) <= WIDTH:
        return [pad + prefix + item.head, inner + body, pad + item.close + suffix]
    lines = [pad + prefix + item.head]
    for element in item.items:
        lines += lay(element, indent + 4, "", ",")
    return [*lines, pad + item.close + suffix]


def call(head: str, *args: Item, exploded: bool = False) -> Seq:
    """``head(args)``: ``head`` is what comes before the parenthesis."""
    return Seq(head + "(", list(args), ")", exploded=exploded)


def signature(head: str, params: Sequence[str], returns: str, indent: int = 0) -> list[str]:
    """``head(params) -> returns:`` at ``indent``, split as the formatter splits a def."""
    pad = " " * indent
    one_line = f"{pad}{head}({', '.join(params)}) -> {returns}:"
    if len(one_line) <= WIDTH:
        return [one_line]
    return [f"{pad}{head}(", *(f"{pad}    {p}," for p in params), f"{pad}) -> {returns}:"]
