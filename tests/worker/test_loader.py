"""The in-memory module loader, on its own and under Temporal's default sandbox."""

from __future__ import annotations

import importlib
import sys
import uuid

import pytest
from temporalio.client import Client
from temporalio.worker import Worker

from runloom.worker.loader import SourceConflict, install_sources, load_compiled, registered

WORKFLOW_SOURCE = """
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    import json


@workflow.defn(name=WORKFLOW_TYPE_PLACEHOLDER)
class Hello:
    @workflow.run
    async def run(self, name: str) -> str:
        greeting = await workflow.execute_activity(
            ACTIVITY_TYPE_PLACEHOLDER,
            name,
            start_to_close_timeout=__import__("datetime").timedelta(seconds=10),
        )
        return json.dumps({"greeting": greeting, "module": __name__})


WORKFLOWS = [Hello]
"""

ACTIVITIES_SOURCE = """
from temporalio import activity


@activity.defn(name=ACTIVITY_TYPE_PLACEHOLDER)
async def greet(name: str) -> str:
    return "hello " + name


ACTIVITIES = [greet]
"""


def _unique() -> str:
    return f"runloom_code.p_test{uuid.uuid4().hex[:10]}.w_hello.v1"


def test_serves_registered_source_and_synthesizes_parents() -> None:
    base = _unique()
    install_sources({f"{base}.mod": "VALUE = 42\n"})
    module = importlib.import_module(f"{base}.mod")
    assert module.VALUE == 42
    parent = sys.modules[base]
    assert parent.__path__ == []  # a package, with nothing on disk
    assert f"{base}.mod" in registered()
    assert base not in registered()


def test_same_source_again_is_fine_different_source_raises() -> None:
    base = _unique()
    install_sources({f"{base}.a": "X = 1\n"})
    install_sources({f"{base}.a": "X = 1\n"})
    with pytest.raises(SourceConflict, match="already registered with a different source"):
        install_sources({f"{base}.b": "Y = 1\n", f"{base}.a": "X = 2\n"})
    # The failed call registered nothing.
    assert f"{base}.b" not in registered()
    assert importlib.import_module(f"{base}.a").X == 1


def test_module_and_package_names_cannot_clash() -> None:
    base = _unique()
    install_sources({f"{base}.leaf": ""})
    with pytest.raises(SourceConflict):
        install_sources({base: "Z = 1\n"})
    with pytest.raises(SourceConflict):
        install_sources({f"{base}.leaf.child": ""})


@pytest.mark.parametrize("name", ["", "a..b", "a.1b", "a.b-c"])
def test_rejects_invalid_module_names(name: str) -> None:
    with pytest.raises(ValueError, match="not a valid dotted module name"):
        install_sources({name: ""})


def test_unregistered_names_fall_through_to_normal_import() -> None:
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(f"{_unique()}.missing")


def test_tracebacks_name_the_module() -> None:
    base = _unique()
    install_sources({f"{base}.broken": "raise RuntimeError('boom')\n"})
    with pytest.raises(RuntimeError) as caught:
        importlib.import_module(f"{base}.broken")
    assert any(str(entry.path) == f"<runloom {base}.broken>" for entry in caught.traceback)


async def test_loaded_workflow_runs_under_default_sandbox(temporal_client: Client) -> None:
    base = _unique()
    wf_type, act_type = f"hello-{base[-10:]}@v1", f"hello-{base[-10:]}@v1.greet"
    loaded = load_compiled(
        workflow_module=f"{base}.workflow",
        workflow_code=WORKFLOW_SOURCE.replace("WORKFLOW_TYPE_PLACEHOLDER", repr(wf_type)).replace(
            "ACTIVITY_TYPE_PLACEHOLDER", repr(act_type)
        ),
        activities_module=f"{base}.activities",
        activities_code=ACTIVITIES_SOURCE.replace("ACTIVITY_TYPE_PLACEHOLDER", repr(act_type)),
    )
    assert [cls.__name__ for cls in loaded.workflows] == ["Hello"]
    assert len(loaded.activities) == 1
    task_queue = f"loader-{uuid.uuid4().hex[:8]}"
    async with Worker(
        temporal_client,
        task_queue=task_queue,
        workflows=loaded.workflows,
        activities=loaded.activities,
    ):
        for name in ("ada", "bob"):
            result = await temporal_client.execute_workflow(
                wf_type, name, id=f"loader-{uuid.uuid4().hex}", task_queue=task_queue
            )
            assert result == f'{{"greeting": "hello {name}", "module": "{base}.workflow"}}'
