"""The layout's rules, checked on the source: small modules, short functions, and which
package may import which (see docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
# The renderer is the generated code's template: long by nature, read top to bottom.
TEMPLATES = {SRC / "runloom" / "compiler" / "render.py"}

# What runs beside user code or knows no infrastructure: none of the platform's services.
_NO_SERVICES = {
    "runloom.db",
    "runloom.store",
    "runloom.services",
    "runloom.api",
    "runloom.manager",
    "runloom.cli",
}

# package -> packages of runloom it must not import (directly or in a function body).
FORBIDDEN: dict[str, set[str]] = {
    "runloom_runtime": {"runloom"},
    "runloom.compiler": _NO_SERVICES | {"runloom.worker"},
    "runloom.worker": _NO_SERVICES,
    "runloom.sandbox": _NO_SERVICES,
    "runloom.store": {"runloom.services", "runloom.api", "runloom.manager", "runloom.cli"},
    "runloom.services": {"runloom.api", "runloom.manager", "runloom.cli"},
    "runloom.manager": {"runloom.api", "runloom.cli"},
    "runloom.api": {"runloom.manager", "runloom.cli"},
}


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_module_and_function_sizes(path: Path) -> None:
    text = path.read_text()
    if path in TEMPLATES:
        return
    assert len(text.splitlines()) <= 400, f"{path.name} has more than 400 lines; split it"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            assert length <= 60, f"{path.name}: {node.name} has {length} lines"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_packages_import_only_downward(path: Path) -> None:
    module = _name(path)
    rules = [banned for package, banned in FORBIDDEN.items() if module.startswith(package)]
    imported = _imports(ast.parse(path.read_text()))
    for banned in rules:
        wrong = {i for i in imported for b in banned if i == b or i.startswith(b + ".")}
        assert not wrong, f"{module} imports {sorted(wrong)}"


def test_the_rules_see_imports() -> None:
    # The checker itself: a module that imports upward is caught.
    tree = ast.parse("from runloom.store import code\nimport runloom.api.app\n")
    assert _imports(tree) == {"runloom.store", "runloom.api.app"}
