"""The Jinja environment templates run in: Jinja's immutable sandbox, bounded.

On top of what :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` refuses (private
attributes, calls that mutate), every operation that could build something huge is
checked first by :mod:`runloom_runtime.template_limits`: ``**``, ``*``, ``+`` and ``%``
(intercepted binary operators), ``~`` (written by :class:`BoundedCodeGenerator` as a
call the environment checks), ``str.format`` padding, string methods, ``range`` and the
filters that pad, fill, join or escape.

Constant folding is off (``optimized=False``): Jinja's optimizer evaluates constant
expressions while *compiling* a template, where no check applies and where a server
validating a graph would otherwise compute ``{{ 'x' * 10 ** 9 }}`` itself.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from functools import update_wrapper
from typing import Any

from jinja2 import ChainableUndefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context
from jinja2.sandbox import (
    ImmutableSandboxedEnvironment,
    SandboxedEscapeFormatter,
    SandboxedFormatter,
)
from markupsafe import Markup

from runloom_runtime import template_limits as limits

__all__ = ["BoundedCodeGenerator", "BoundedSandbox"]


class BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator, but ``a ~ b`` is written ``environment.bounded_concat(...)``."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        # As Jinja's own visit_Concat, which writes `<join>((a, b, ))`.
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.bounded_concat({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _BoundedFormatter(SandboxedFormatter):
    """``str.format``: the widths and precisions of all fields together are bounded."""

    _budget = limits.MAX_SIZE

    def vformat(self, format_string: str, args: Any, kwargs: Any) -> str:
        self._budget = limits.MAX_SIZE
        return super().vformat(format_string, args, kwargs)

    def format_field(self, value: Any, format_spec: str) -> Any:
        self._budget = limits.check_format_spec(format_spec, self._budget)
        return super().format_field(value, format_spec)


class _BoundedEscapeFormatter(_BoundedFormatter, SandboxedEscapeFormatter):
    pass


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with size limits and no compile-time evaluation."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = BoundedCodeGenerator

    def __init__(self) -> None:
        # ChainableUndefined lets `steps.maybe_skipped.field` be falsy instead of an error,
        # so joins after a condition can write `steps.a or steps.b`.
        super().__init__(undefined=ChainableUndefined, autoescape=False, optimized=False)
        self.globals["range"] = limits.bounded_range
        self.filters = limits.bounded_filters(self.filters)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        limits.check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        args = limits.check_call(obj, args)
        return super().call(context, obj, *args, **kwargs)

    def bounded_concat(self, join: Callable[[tuple[Any, ...]], str], parts: tuple[Any, ...]) -> str:
        """``a ~ b ~ ...`` (see :class:`BoundedCodeGenerator`)."""
        return limits.check_concat(parts, join(parts))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        # Jinja's own, with formatters that bound padding.
        if not isinstance(value, types.MethodType | types.BuiltinMethodType) or (
            value.__name__ not in ("format", "format_map")
        ):
            return None
        f_self: Any = value.__self__
        if not isinstance(f_self, str):
            return None
        str_type: type[str] = type(f_self)
        is_format_map = value.__name__ == "format_map"
        formatter: SandboxedFormatter
        if isinstance(f_self, Markup):
            formatter = _BoundedEscapeFormatter(self, escape=f_self.escape)
        else:
            formatter = _BoundedFormatter(self)
        vformat = formatter.vformat

        def wrapper(*args: Any, **kwargs: Any) -> str:
            if is_format_map:
                if kwargs:
                    raise TypeError("format_map() takes no keyword arguments")
                if len(args) != 1:
                    raise TypeError(f"format_map() takes exactly one argument ({len(args)} given)")
                kwargs = args[0]
                args = ()
            return str_type(vformat(f_self, args, kwargs))

        return update_wrapper(wrapper, value)
