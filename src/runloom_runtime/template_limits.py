"""Bounds on what one template operation may build, checked before it is built.

Jinja's sandbox stops templates from reaching what they should not, but not from asking
for ``3 ** 10 ** 9`` or ``'x' * 10 ** 9``: one small expression that takes minutes of CPU
or gigabytes of memory. Every operation that can make something much larger than what it
is given is checked, and refused with a :class:`TemplateLimitError` naming the limit:

* ``**`` and ``*`` on integers may add at most :data:`MAX_INT_BITS` bits;
* ``*`` (repetition), ``+`` and ``~`` on strings and lists, ``%`` and ``str.format``
  widths and precisions, and the filters and string methods that pad, fill, join or
  escape may add at most :data:`MAX_SIZE` characters or items (what a list holds counts);
* ``range`` yields at most :data:`MAX_RANGE` numbers, ``slice`` makes at most as many.

"Add": ``input.big_text ~ '!'`` stays fine however long ``big_text`` is; what is refused is
growth that the template itself asks for. Every check is a pure function of the values, so
a workflow replays exactly as it ran. Escaping filters are checked on their result (they
grow text by a bounded factor); everything else before anything is built.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping, Sized
from typing import Any

from jinja2.exceptions import SecurityError

__all__ = [
    "MAX_INT_BITS",
    "MAX_RANGE",
    "MAX_SIZE",
    "TemplateLimitError",
    "bounded_filters",
    "bounded_range",
    "check_binop",
    "check_call",
    "check_concat",
    "check_format_spec",
    "check_percent",
    "size_of",
]

MAX_INT_BITS = 4096
MAX_SIZE = 1 << 20  # characters, or items: 1 Mi
MAX_RANGE = 100_000

_SEQUENCE = (str, bytes, list, tuple)
_HUGE = MAX_SIZE + 1  # what a number too long to read counts as
_DIGITS = re.compile(r"\d+")
# One conversion of printf-style formatting; its width and precision may be `*`.
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?.", re.S)


class TemplateLimitError(SecurityError):
    """A template asked for a value over one of the sandbox's size limits."""


def _amount(number: float) -> str:
    if isinstance(number, float):
        return f"{number:.0f}" if math.isfinite(number) and number < 1e18 else "more than 10^18"
    return str(number) if number < 10**18 else "more than 10^18"


def _too_large(what: str, growth: float, unit: str, limit: int) -> TemplateLimitError:
    return TemplateLimitError(
        f"{what} would add {_amount(growth)} {unit}; the template sandbox allows at most "
        f"{limit} {unit} more than an operation is given"
    )


def _int(value: Any) -> bool:
    return isinstance(value, int)


def _number(digits: str) -> int:
    return int(digits) if len(digits) < 19 else _HUGE


def size_of(value: Any, budget: int = MAX_SIZE) -> int:
    """Characters and items ``value`` stands for once written out (a list holding the same
    long string twice counts it twice), counted until the count passes ``budget``."""
    total = 0
    stack = [value]
    while stack and total <= budget:
        item = stack.pop()
        if isinstance(item, str | bytes | range):
            total += len(item)
        elif isinstance(item, Mapping):
            total += len(item)
            if total <= budget:
                stack.extend(item.keys())
                stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += len(item)
            if total <= budget:
                stack.extend(item)
        else:
            total += 1
    return total


def _show(number: int) -> str:
    bits = abs(number).bit_length()
    return str(number) if bits <= 64 else f"<an integer of {bits} bits>"


def _describe(value: Any) -> str:
    if isinstance(value, str | bytes):
        return f"a string of {len(value)} characters"
    if isinstance(value, Sized):
        return f"a {type(value).__name__} of {len(value)} items"
    return type(value).__name__


def _check_power(base: Any, exponent: Any) -> None:
    if not (_int(base) and _int(exponent)) or exponent <= 1 or abs(base) <= 1:
        return
    growth = (min(exponent, 10**300) - 1) * math.log2(abs(base))
    if growth > MAX_INT_BITS:
        raise _too_large(f"{_show(base)} ** {_show(exponent)}", growth, "bits", MAX_INT_BITS)


def _check_repeat(sequence: Any, times: int) -> None:
    if times <= 1:
        return
    growth = len(sequence) * (times - 1)
    if growth <= MAX_SIZE and not isinstance(sequence, str | bytes):
        growth = size_of(sequence, MAX_SIZE // (times - 1) + 1) * (times - 1)
    if growth > MAX_SIZE:
        what = f"repeating {_describe(sequence)} {_show(times)} times"
        raise _too_large(what, growth, "characters or items", MAX_SIZE)


def _check_product(left: Any, right: Any) -> None:
    if _int(left) and _int(right):
        growth = min(abs(left).bit_length(), abs(right).bit_length())
        if growth > MAX_INT_BITS:
            raise _too_large(f"{_show(left)} * {_show(right)}", growth, "bits", MAX_INT_BITS)
    elif _int(left) and isinstance(right, _SEQUENCE):
        _check_repeat(right, left)
    elif isinstance(left, _SEQUENCE) and _int(right):
        _check_repeat(left, right)


def _check_sum(left: Any, right: Any) -> None:
    both_text = isinstance(left, str | bytes) and isinstance(right, str | bytes)
    both_lists = isinstance(left, list | tuple) and isinstance(right, list | tuple)
    if both_text or both_lists:
        growth = min(size_of(left), size_of(right))
        if growth > MAX_SIZE:
            what = f"{_describe(left)} + {_describe(right)}"
            raise _too_large(what, growth, "characters or items", MAX_SIZE)


def check_percent(template: str, args: Any) -> None:
    """``template % args`` and the ``format`` filter: widths and precisions pad."""
    padding = 0
    stars = 0
    for width, precision in _PERCENT.findall(template):
        for number in (width, precision):
            stars += number == "*"
            padding += _number(number) if number.isdigit() else 0
    if stars:
        values = args if isinstance(args, tuple) else (args,)
        padding += sum(min(abs(v), _HUGE) for v in values if _int(v))
    if padding > MAX_SIZE:
        raise _too_large("the % format's widths and precisions", padding, "characters", MAX_SIZE)


def check_format_spec(spec: str, budget: int) -> int:
    """One ``str.format`` field's spec against what is left of ``budget``; what is left."""
    for digits in _DIGITS.findall(spec):
        budget -= _number(digits)
    if budget < 0:
        growth = MAX_SIZE - budget
        raise _too_large("the format's widths and precisions", growth, "characters", MAX_SIZE)
    return budget


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse ``left <operator> right`` if it would build something over the limits."""
    if operator == "**":
        _check_power(left, right)
    elif operator == "*":
        _check_product(left, right)
    elif operator == "+":
        _check_sum(left, right)
    elif operator == "%" and isinstance(left, str):
        check_percent(left, right)


def check_concat(parts: tuple[Any, ...], joined: str) -> str:
    """``a ~ b ~ ...``, once joined, may exceed its longest text part by MAX_SIZE."""
    longest = max((len(p) for p in parts if isinstance(p, str)), default=0)
    if len(joined) - longest > MAX_SIZE:
        raise _too_large("the ~ concatenation", len(joined) - longest, "characters", MAX_SIZE)
    return joined


def _replace_growth(text: str, old: str, new: Any, count: Any) -> int:
    if not isinstance(new, str):
        return 0
    found = text.count(old) if old else len(text) + 1
    if _int(count) and count >= 0:
        found = min(found, count)
    return found * (len(new) - len(old))


def _method_growth(text: str, name: str, args: tuple[Any, ...]) -> int:
    if name in ("ljust", "rjust", "center", "zfill") and args and _int(args[0]):
        return int(args[0]) - len(text)
    if name == "expandtabs":
        tab = args[0] if args and _int(args[0]) else 8
        return int(tab) * text.count("\t")
    if name == "replace" and len(args) >= 2 and isinstance(args[0], str):
        return _replace_growth(text, args[0], args[1], args[2] if len(args) > 2 else -1)
    if name == "join" and args and isinstance(args[0], Sized):
        return len(text) * max(len(args[0]) - 1, 0)
    return 0


def check_call(function: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """String methods that pad or repeat (``'x'.ljust(10 ** 9)``, ``.replace``, ``.join``);
    the arguments to call with (what ``join`` is given is read into a list first)."""
    owner = getattr(function, "__self__", None)
    name = getattr(function, "__name__", None)
    if not isinstance(owner, str) or not isinstance(name, str):
        return args
    if name == "join" and args and not isinstance(args[0], Sized):
        args = (list(args[0]), *args[1:])
    growth = _method_growth(owner, name, args)
    if growth > MAX_SIZE:
        raise _too_large(f"str.{name}", growth, "characters", MAX_SIZE)
    return args


def bounded_range(*args: int) -> range:
    """Jinja's ``range``, refused past MAX_RANGE numbers with a message that says so."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise TemplateLimitError(
            f"range{args} would yield {len(numbers)} numbers; the template sandbox allows "
            f"at most {MAX_RANGE}"
        )
    return numbers


# --- filters --------------------------------------------------------------------------


def _pad(what: str, growth: Any) -> None:
    if _int(growth) and growth > MAX_SIZE:
        raise _too_large(what, growth, "characters or items", MAX_SIZE)


def _center(value: Any, width: Any = 80, *_: Any, **__: Any) -> None:
    _pad("the center filter", width - len(value) if isinstance(value, str) else width)


def _indent(text: Any, width: Any = 4, *_: Any, **__: Any) -> None:
    pad = width if _int(width) else len(width) if isinstance(width, str) else 0
    lines = text.count("\n") + 1 if isinstance(text, str) else 1
    _pad("the indent filter", pad * lines)


def _format(value: Any, *args: Any, **kwargs: Any) -> None:
    if isinstance(value, str):
        check_percent(value, kwargs or args)


def _batch(_value: Any, linecount: Any = 1, fill_with: Any = None, *_: Any, **__: Any) -> None:
    if fill_with is not None:
        _pad("the batch filter's filling", linecount)


def _slice(_ctx: Any, _value: Any, slices: Any = 1, *_: Any, **__: Any) -> None:
    if _int(slices) and slices > MAX_RANGE:
        raise TemplateLimitError(
            f"the slice filter would make {_amount(slices)} slices; the template sandbox "
            f"allows at most {MAX_RANGE}"
        )


def _replace(_ctx: Any, text: Any, old: Any, new: Any, count: Any = None, **__: Any) -> None:
    if isinstance(text, str) and isinstance(old, str):
        _pad("the replace filter", _replace_growth(text, old, new, count))


def _wordwrap(_env: Any, text: Any, width: Any = 79, *args: Any, **kwargs: Any) -> None:
    wrap = kwargs.get("wrapstring", args[1] if len(args) > 1 else None)
    if isinstance(text, str) and isinstance(wrap, str) and _int(width):
        _pad("the wordwrap filter", len(wrap) * (len(text) // max(width, 1) + 1))


def _tojson(_ctx: Any, _value: Any, indent: Any = None, **__: Any) -> None:
    _pad("the tojson filter's indent", indent)


_BEFORE: dict[str, Callable[..., None]] = {
    "batch": _batch,
    "center": _center,
    "format": _format,
    "indent": _indent,
    "replace": _replace,
    "slice": _slice,
    "tojson": _tojson,
    "wordwrap": _wordwrap,
}
# Filters whose growth is a bounded factor of their input: checked on what they return.
_AFTER = frozenset({"e", "escape", "forceescape", "tojson", "urlencode"})


def _checked(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    before = _BEFORE.get(name)
    after = name in _AFTER
    passes_context = hasattr(original, "jinja_pass_arg")

    @functools.wraps(original)  # keeps Jinja's pass_eval_context / pass_environment marks
    def checked(*args: Any, **kwargs: Any) -> Any:
        if before is not None:
            before(*args, **kwargs)
        result = original(*args, **kwargs)
        if after and isinstance(result, str):
            value = args[1] if passes_context else args[0]
            _pad(f"the {name} filter", len(result) - size_of(value, len(result)))
        return result

    return checked


def _join(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def join(eval_ctx: Any, value: Any, d: Any = "", attribute: Any = None) -> Any:
        items = value if isinstance(value, Sized) else list(value)
        if isinstance(d, str):
            check_call(d.join, (items,))
        return original(eval_ctx, items, d, attribute)

    return join


def bounded_filters(filters: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """Jinja's filters; those that pad, fill, join or escape checked."""
    checked = {
        name: _checked(name, f) if name in _BEFORE or name in _AFTER else f
        for name, f in filters.items()
    }
    if "join" in checked:
        checked["join"] = _join(checked["join"])
    return checked
