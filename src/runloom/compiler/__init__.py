"""The workflow compiler: graph document -> validated -> Python Temporal code.

Pipeline (each stage in its own modules, each tested on its own)::

    parse (parse, model) -> validate (structure, validate) -> name (identifiers) -> render -> check

>>> compiled = compile_workflow(graph, workflow_key="orders", version=3)
>>> compiled.workflow_type
'orders@v3'
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from runloom import naming
from runloom.compiler import export
from runloom.compiler.check import check_module
from runloom.compiler.errors import CompilerError, GeneratedCodeInvalid, GraphInvalid, Problem
from runloom.compiler.identifiers import assign_names
from runloom.compiler.model import Graph, GraphSettings
from runloom.compiler.options import DEFAULT_OPTIONS, CompileOptions, RunBounds
from runloom.compiler.parse import _parse, child_workflow_keys, parse_graph
from runloom.compiler.render import render_modules
from runloom.compiler.structure import check_structure
from runloom.compiler.validate import (
    check_nodes,
    check_timeouts,
    check_workflow_key,
    validate_graph,
)

__all__ = [
    "COMPILER_VERSION",
    "CompileOptions",
    "CompiledWorkflow",
    "CompilerError",
    "GeneratedCodeInvalid",
    "Graph",
    "GraphInvalid",
    "Problem",
    "RunBounds",
    "child_workflow_keys",
    "compile_workflow",
    "parse_graph",
    "validate_graph",
]

# Bump when generated code changes shape; recorded in compiler_options_json.
COMPILER_VERSION = "2"  # 2: run bounds (CompileOptions.bounds) compiled in


@dataclass(frozen=True)
class CompiledWorkflow:
    """Everything a compilation produces; together the files form a runnable project."""

    workflow_key: str
    version: int
    workflow_type: str
    workflow_class: str
    workflow_code: str
    activities_code: str
    worker_code: str
    requirements_txt: str
    compiler_options_json: str
    activity_types: tuple[str, ...]
    warnings: tuple[Problem, ...] = ()

    def export_files(self) -> dict[str, str]:
        """The standalone project: file path -> text."""
        return export.project_files(
            self, workflow_key=self.workflow_key, workflow_type=self.workflow_type
        )

    def export_zip(self) -> bytes:
        """:meth:`export_files` as a zip archive (byte-identical for identical input)."""
        return export.zip_files(self.export_files())


def _options_json(
    *, workflow_key: str, version: int, options: CompileOptions, settings: GraphSettings
) -> str:
    document: dict[str, Any] = {
        "compiler": "runloom",
        "compiler_version": COMPILER_VERSION,
        "runloom_version": metadata.version("runloom"),
        "temporalio_version": metadata.version("temporalio"),
        "python": "3.11",
        "workflow_key": workflow_key,
        "version": version,
        "workflow_type": naming.workflow_type(workflow_key, version),
        "options": options.to_json_dict(),
    }
    # How every run of the version is started (runloom.services.runs reads it back);
    # absent when the graph sets nothing, so older graphs keep their stored document.
    run_settings = settings.model_dump(exclude_none=True)
    if run_settings:
        document["settings"] = run_settings
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def compile_workflow(
    graph: Mapping[str, Any],
    *,
    workflow_key: str,
    version: int,
    options: CompileOptions = DEFAULT_OPTIONS,
) -> CompiledWorkflow:
    """Compile the builder's graph document to Temporal code.

    Raises :class:`GraphInvalid` listing every problem (warnings too in strict mode).
    """
    problems = check_workflow_key(workflow_key, version)
    parsed = _parse(graph)
    problems.extend(parsed.problems)
    if parsed.graph is not None:
        problems.extend(validate_graph(parsed.graph, options=options))
    elif parsed.skeleton.nodes:
        # Keep checking what did parse, so that one bad node does not hide the rest.
        problems.extend(check_structure(parsed.skeleton))
        problems.extend(check_nodes(parsed.nodes, options=options))
        problems.extend(check_timeouts(parsed.nodes, parsed.skeleton.edges))
    errors = tuple(p for p in problems if p.severity == "error" or options.strict_mode)
    if errors or parsed.graph is None:
        raise GraphInvalid(errors or tuple(problems))
    model = parsed.graph
    names = assign_names(model, workflow_key=workflow_key, version=version)
    modules = render_modules(
        model, names=names, workflow_key=workflow_key, version=version, options=options
    )
    check_module(modules.workflow_code, filename="workflow.py")
    check_module(modules.activities_code, filename="activities.py")
    check_module(modules.worker_code, filename="worker.py")
    workflow_type = naming.workflow_type(workflow_key, version)
    return CompiledWorkflow(
        workflow_key=workflow_key,
        version=version,
        workflow_type=workflow_type,
        workflow_class=names.workflow_class,
        workflow_code=modules.workflow_code,
        activities_code=modules.activities_code,
        worker_code=modules.worker_code,
        requirements_txt=export.requirements(workflow_type=workflow_type),
        compiler_options_json=_options_json(
            workflow_key=workflow_key, version=version, options=options, settings=model.settings
        ),
        activity_types=modules.activity_types,
        warnings=tuple(p for p in problems if p.severity == "warning"),
    )
