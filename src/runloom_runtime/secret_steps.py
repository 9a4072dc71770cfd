"""Activities of the nodes whose templates read project secrets.

An ``http_request`` or ``transform`` node (or a ``for_each`` step of either type) whose
templates name ``secrets`` cannot be rendered in workflow code like the others: the
rendered value would be in the activity's input, the node's output and the run's
history. So its templates are rendered here, inside its activity. The workflow sends
only the part of the scope the templates read (``input``, some ``steps``, ``item``,
``index``: never a secret); the activity fetches the project's secrets once
(:func:`runloom_runtime.project_secrets.current`), renders with ``secrets`` added to the
scope, sends the request (http) or keeps the value (transform), and redacts what it
returns or raises before Temporal records it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from runloom_runtime import http, project_secrets, templates

__all__ = ["http_request", "transform"]


async def _secrets(names: Sequence[str]) -> Mapping[str, str]:
    """The project's secrets; each of ``names`` (those the templates name) must be set."""
    known = await project_secrets.current()
    missing = [name for name in names if name not in known]
    if missing:
        listed = ", ".join(repr(name) for name in missing)
        raise ApplicationError(
            f"secret {listed} is not set: add it in the project's Secrets tab (outside "
            f"runloom, set the environment variable {project_secrets.ENV_PREFIX}<NAME>)",
            type="SecretMissing",
            non_retryable=True,
        )
    return known


def _render(template: Any, scope: Mapping[str, Any], known: Mapping[str, str]) -> Any:
    # A copy of the values: templates see a plain mapping, like `input` and `steps`.
    return templates.render(template, {**scope, "secrets": dict(known)})


async def http_request(
    template: Mapping[str, Any], scope: Mapping[str, Any], *, secrets: Sequence[str]
) -> dict[str, Any]:
    """Render the request ``template`` and send it (see :func:`runloom_runtime.http.perform`);
    the result (status, headers, body, logs) and any error come back redacted."""
    known = await _secrets(secrets)
    with project_secrets.redacting(known, final=(templates.TemplateEvaluationError,)):
        result = await http.perform(_render(template, scope, known))
    redacted: dict[str, Any] = project_secrets.redact(result, known)
    return redacted


async def transform(
    template: Any, scope: Mapping[str, Any], *, secrets: Sequence[str]
) -> dict[str, Any]:
    """Render a transform node's output ``template``; ``{"output", "attempt"}``, redacted."""
    known = await _secrets(secrets)
    with project_secrets.redacting(known, final=(templates.TemplateEvaluationError,)):
        output = _render(template, scope, known)
    attempt = activity.info().attempt if activity.in_activity() else None
    return {"output": project_secrets.redact(output, known), "attempt": attempt}
