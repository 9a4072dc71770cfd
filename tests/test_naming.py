"""Every name runloom gives, built and parsed in one place."""

from __future__ import annotations

import uuid

from runloom import naming
from runloom_runtime import graph, step_memo


def test_workflow_types() -> None:
    assert naming.workflow_type("orders", 3) == "orders@v3"


def test_execution_ids_are_read_back_from_workflow_ids_runloom_built() -> None:
    execution = uuid.uuid4()
    built = naming.temporal_workflow_id(key="my-flow", execution_id=execution)
    assert naming.execution_id_of(built) == execution
    assert naming.execution_id_of("a-child-workflow") is None


def test_activity_types_fold_into_one_statistics_name_across_versions() -> None:
    assert naming.activity_type("orders", 3, "fetch") == "orders@v3.fetch"
    assert naming.statistics_activity_name("orders@v3.fetch") == "orders.fetch"
    assert naming.statistics_activity_name("orders@v12.v2") == "orders.v2"


def test_queue_run_and_module_names() -> None:
    user, project, execution, code = (uuid.uuid4() for _ in range(4))
    assert naming.task_queue_name(user_id=user, project_id=project) == f"{user}-{project}"
    assert naming.temporal_workflow_id(key="k", execution_id=execution) == f"k-{execution}"
    module = naming.module_base(project_id=project, key="my-flow", version=2, code_id=code)
    assert module == f"runloom_code.p_{project.hex}.w_my_flow.v2_{code.hex[:12]}"
    assert all(part.isidentifier() for part in module.split("."))


def test_the_runtime_and_the_platform_agree_on_the_node_states_memo() -> None:
    # Generated code writes it through runloom_runtime (exports ship without runloom).
    assert graph.NODE_STATES_MEMO == naming.NODE_STATES_MEMO


def test_ui_link() -> None:
    url = naming.temporal_ui_url(
        base="http://ui:8233/", namespace="ns", workflow_id="w", run_id="r"
    )
    assert url == "http://ui:8233/namespaces/ns/workflows/w/r/history"


def test_the_runtime_and_the_platform_agree_on_the_step_outputs_memo() -> None:
    assert step_memo.STEP_OUTPUTS_MEMO == naming.STEP_OUTPUTS_MEMO


def test_node_of_activity() -> None:
    assert naming.node_of_activity("orders@v3.fetch", workflow_type="orders@v3") == "fetch"
    assert naming.node_of_activity("orders@v3.a.b", workflow_type="orders@v3") == "a.b"
    assert naming.node_of_activity("orders@v31.fetch", workflow_type="orders@v3") is None
