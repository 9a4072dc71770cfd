"""Import compiled workflow code from memory, under versioned module names.

The project worker receives each compiled version's source as text and must import it
without writing files. :func:`install_sources` registers ``module name -> source`` with a
meta-path finder; :func:`load_compiled` imports a version's workflow and activities
modules and returns what a ``temporalio.worker.Worker`` needs.

Temporal's default workflow sandbox re-imports every non-passthrough module for each
run and replay, through the normal import system, so the finder keeps serving the
sources for the life of the process. Because a replay must see exactly the code the run
started with, a module name is bound to one source for ever: registering it again with
different text raises :class:`SourceConflict`. Callers therefore put the version in the
name, e.g. ``runloom_code.p_<project>.w_<key>.v<n>.workflow`` and ``....activities``;
the dotted parents (``runloom_code``, ``runloom_code.p_<project>``, ...) are served as
empty packages.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import CodeType, ModuleType
from typing import Any

__all__ = ["LoadedCode", "SourceConflict", "install_sources", "load_compiled", "registered"]


class SourceConflict(ValueError):
    """A module name was registered again with a different source."""


class _MemoryFinder(importlib.abc.MetaPathFinder, importlib.abc.InspectLoader):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sources: dict[str, str] = {}
        self._packages: set[str] = set()
        self._compiled: dict[str, CodeType] = {}

    def add(self, mapping: Mapping[str, str]) -> None:
        with self._lock:
            for name, source in mapping.items():
                if not name or any(not part.isidentifier() for part in name.split(".")):
                    raise ValueError(f"{name!r} is not a valid dotted module name")
                if name in self._packages:
                    raise SourceConflict(f"{name!r} is already a package of other modules")
                known = self._sources.get(name)
                if known is not None and known != source:
                    raise SourceConflict(
                        f"module {name!r} is already registered with a different source; "
                        "use a new module name (a new version) for new code"
                    )
            for name, source in mapping.items():
                self._sources[name] = source
                parts = name.split(".")
                for i in range(1, len(parts)):
                    parent = ".".join(parts[:i])
                    if parent in self._sources:
                        raise SourceConflict(f"{parent!r} is a module, not a package")
                    self._packages.add(parent)

    def names(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._sources)

    # --- MetaPathFinder -----------------------------------------------------------------

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        with self._lock:
            is_package = fullname in self._packages
            if not is_package and fullname not in self._sources:
                return None
        spec = importlib.machinery.ModuleSpec(
            fullname, self, origin=f"<runloom {fullname}>", is_package=is_package
        )
        if is_package:
            spec.submodule_search_locations = []
        return spec

    # --- InspectLoader ------------------------------------------------------------------

    def get_source(self, fullname: str) -> str:
        with self._lock:
            if fullname in self._packages:
                return ""
            try:
                return self._sources[fullname]
            except KeyError:
                raise ImportError(f"no source registered for {fullname!r}", name=fullname) from None

    def is_package(self, fullname: str) -> bool:
        with self._lock:
            return fullname in self._packages

    def get_code(self, fullname: str) -> CodeType:
        # Compiled once: the sandbox imports a workflow module afresh for every run and
        # replay, and a name always serves the same source.
        with self._lock:
            code = self._compiled.get(fullname)
        if code is None:
            source = self.get_source(fullname)
            # The origin in the file name makes tracebacks point at the version that failed.
            code = compile(source, f"<runloom {fullname}>", "exec", dont_inherit=True)
            with self._lock:
                self._compiled[fullname] = code
        return code

    def exec_module(self, module: ModuleType) -> None:
        code = self.get_code(module.__name__)
        exec(code, module.__dict__)  # noqa: S102 - this loader exists to run compiled code


_FINDER = _MemoryFinder()
_INSTALL_LOCK = threading.Lock()


def _ensure_installed() -> None:
    with _INSTALL_LOCK:
        if _FINDER not in sys.meta_path:
            # First, so that nothing on sys.path can shadow a registered name.
            sys.meta_path.insert(0, _FINDER)


def install_sources(mapping: Mapping[str, str]) -> None:
    """Serve each ``module name -> source`` through the import system from now on.

    Idempotent for identical sources; raises :class:`SourceConflict` (and registers
    nothing) if a name is already bound to different source.
    """
    _FINDER.add(mapping)
    _ensure_installed()


def registered() -> frozenset[str]:
    """Module names registered so far (not the synthesized parent packages)."""
    return _FINDER.names()


@dataclass(frozen=True)
class LoadedCode:
    """What one compiled version contributes to a worker."""

    workflows: tuple[type, ...]
    activities: tuple[Callable[..., Any], ...]


def load_compiled(
    *,
    workflow_module: str,
    workflow_code: str,
    activities_module: str,
    activities_code: str,
) -> LoadedCode:
    """Register and import one compiled version; return its workflows and activities.

    The workflow module must define ``WORKFLOWS`` (a list of ``@workflow.defn``
    classes) and the activities module ``ACTIVITIES`` (a list of ``@activity.defn``
    callables), as runloom's compiler generates them.
    """
    install_sources({workflow_module: workflow_code, activities_module: activities_code})
    workflows_mod = importlib.import_module(workflow_module)
    activities_mod = importlib.import_module(activities_module)
    return LoadedCode(
        workflows=tuple(getattr(workflows_mod, "WORKFLOWS")),  # noqa: B009 - generated name
        activities=tuple(getattr(activities_mod, "ACTIVITIES")),  # noqa: B009
    )
