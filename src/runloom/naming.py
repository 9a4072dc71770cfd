"""Every name runloom gives to things in Temporal and Postgres, built (and, where runloom
reads one back, parsed) in one place.

A workflow's version ``n`` runs as the Temporal workflow type ``<key>@v<n>``; each node of
it is the activity type ``<key>@v<n>.<node id>``; a project's runs share the task queue
``<user id>-<project id>``; each stored version is imported in a worker under a module
name that never serves other source. Changing any of these changes what running
workers, the tracker and the statistics agree on, so they are written nowhere else.
"""

from __future__ import annotations

import re
import uuid

__all__ = [
    "CONTROL_CHANNEL",
    "EXECUTIONS_CHANNEL",
    "EXECUTION_CHANGED_CHANNEL",
    "MEMO_EXECUTION_ID",
    "MEMO_PROJECT_ID",
    "MEMO_WORKFLOW_ID",
    "NODE_STATES_MEMO",
    "NODE_STATES_QUERY",
    "SECRETS_CHANGED_CHANNEL",
    "SECRET_NAME_PATTERN",
    "STEPS_QUERY",
    "STEP_OUTPUTS_MEMO",
    "activity_type",
    "execution_id_of",
    "module_base",
    "node_of_activity",
    "statistics_activity_name",
    "task_queue_name",
    "temporal_ui_url",
    "temporal_workflow_id",
    "workflow_type",
]

# Query the generated workflow answers with every node's state, and the memo key where
# the runtime leaves the final states (also the patch id that introduced the memo). The
# generated code spells them through runloom_runtime.graph, which exports ship without
# runloom; these are the platform's names for the same strings.
NODE_STATES_QUERY = "node_states"
NODE_STATES_MEMO = "runloom_node_states"
# Query with the outputs of the nodes that completed so far, and the memo key where the
# runtime leaves the outputs no activity returned (those are not in the run's history).
STEPS_QUERY = "steps"
STEP_OUTPUTS_MEMO = "runloom_step_outputs"

# Memo keys of every run runloom starts: the tracker trusts a run only for the execution
# its memo names.
MEMO_EXECUTION_ID = "runloom_execution_id"
MEMO_PROJECT_ID = "runloom_project_id"
MEMO_WORKFLOW_ID = "runloom_workflow_id"

# Postgres NOTIFY channels: requests to worker managers; new runs for the tracker; runs
# the tracker recorded as finished (for live streams).
CONTROL_CHANNEL = "runloom_workers"
EXECUTIONS_CHANNEL = "runloom_executions"
EXECUTION_CHANGED_CHANNEL = "runloom_execution_changed"
# A project's secrets changed (payload: the project id), sent by a trigger on the table
# so that every writer, the API and `runloom secrets rotate-key` alike, announces it.
SECRETS_CHANGED_CHANNEL = "runloom_secrets_changed"

# Names of project secrets, as `{{ secrets.NAME }}` spells them: upper-case identifiers,
# so that a reference reads as a constant. The migration's CHECK repeats it.
SECRET_NAME_PATTERN = r"^[A-Z_][A-Z0-9_]{0,63}$"  # noqa: S105 (a pattern)

# Schedules: a Temporal Schedule per schedule trigger, whose action is a small workflow on
# the installation's platform task queue (served by every manager) that starts the run.
SCHEDULED_RUN_WORKFLOW = "runloom.scheduled_run"


def platform_task_queue(installation_id: uuid.UUID) -> str:
    return f"runloom-platform-{installation_id}"


def schedule_id(trigger_id: uuid.UUID) -> str:
    return f"runloom-trigger-{trigger_id}"


def scheduled_run_workflow_id(trigger_id: uuid.UUID) -> str:
    """The id prefix of a schedule's actions (Temporal appends each fire time)."""
    return f"runloom-schedule-{trigger_id}"


_VERSION_SUFFIX = re.compile(r"@v\d+(?=\.|$)")


def workflow_type(key: str, version: int) -> str:
    return f"{key}@v{version}"


def activity_type(key: str, version: int, node_id: str) -> str:
    return f"{workflow_type(key, version)}.{node_id}"


def node_of_activity(activity: str, *, workflow_type: str) -> str | None:
    """``orders@v3.fetch`` of ``orders@v3`` → ``fetch``; None for another workflow's type."""
    prefix = f"{workflow_type}."
    return activity[len(prefix) :] if activity.startswith(prefix) else None


def statistics_activity_name(activity: str) -> str:
    """``orders@v3.fetch`` → ``orders.fetch``: figures add up across versions of a workflow."""
    return _VERSION_SUFFIX.sub("", activity)


def task_queue_name(*, user_id: uuid.UUID, project_id: uuid.UUID) -> str:
    return f"{user_id}-{project_id}"


def temporal_workflow_id(*, key: str, execution_id: uuid.UUID) -> str:
    return f"{key}-{execution_id}"


def execution_id_of(temporal_workflow_id: str) -> uuid.UUID | None:
    """The execution id in a workflow id :func:`temporal_workflow_id` built; None for ids
    runloom did not build (child workflows, runs started elsewhere)."""
    try:
        return uuid.UUID(temporal_workflow_id[-36:])
    except ValueError:
        return None


def module_base(*, project_id: uuid.UUID, key: str, version: int, code_id: uuid.UUID) -> str:
    """The dotted module name under which one stored version is imported in a worker.

    The code id is part of the name because a workflow can be deleted and re-created under
    the same key, restarting at v1 with other code, while the worker process lives on; a
    module name must always serve the same source.
    """
    return (
        f"runloom_code.p_{project_id.hex}.w_{key.replace('-', '_')}.v{version}_{code_id.hex[:12]}"
    )


def temporal_ui_url(*, base: str, namespace: str, workflow_id: str, run_id: str) -> str:
    """The run's history page in the Temporal Web UI."""
    return f"{base.rstrip('/')}/namespaces/{namespace}/workflows/{workflow_id}/{run_id}/history"
