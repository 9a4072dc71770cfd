"""The benchmark graphs and their hand-written twins do the same number of activities."""

from __future__ import annotations

from benchmarks.baseline import STEPS, LocalSteps, Steps, ThreeSteps
from benchmarks.graphs import steps_graph, three_step_graph
from benchmarks.throughput import _shares
from temporalio import workflow

from runloom.compiler import compile_workflow


def test_steps_graph_compiles_to_one_activity_per_step() -> None:
    regular = compile_workflow(steps_graph(STEPS), workflow_key="steps", version=1)
    assert regular.workflow_code.count("workflow.execute_activity(") == STEPS
    assert "execute_local_activity" not in regular.workflow_code
    local = compile_workflow(steps_graph(STEPS, local=True), workflow_key="local", version=1)
    assert local.workflow_code.count("workflow.execute_local_activity(") == STEPS
    three = compile_workflow(three_step_graph(), workflow_key="three", version=1)
    assert three.workflow_code.count("workflow.execute_activity(") == 3


def test_baseline_workflow_names_are_the_ones_the_benchmarks_start() -> None:
    names = {
        defn.name
        for defn in (
            workflow._Definition.must_from_class(cls) for cls in (ThreeSteps, Steps, LocalSteps)
        )
    }
    assert names == {"bench_three_steps", "bench_steps", "bench_local_steps"}


def test_shares_split_runs_among_clients() -> None:
    assert _shares(500, 16) == [32] * 4 + [31] * 12
    assert sum(_shares(40, 16)) == 40
    assert _shares(3, 16).count(0) == 13
