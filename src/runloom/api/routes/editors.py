"""Helpers of the builder's editors: a template's value against sample data, and one step
of a draft graph run once ("Test this step")."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from runloom.api.deps import CurrentUser, PoolDep, StartRateLimit, StateDep
from runloom.api.schemas_editors import (
    StepTest,
    StepTestResult,
    TemplatePreview,
    TemplateValue,
)
from runloom.services import compile_pool, step_test

router = APIRouter(tags=["editors"])

_PREVIEW_ERRORS: dict[int | str, dict[str, str]] = {
    422: {"description": "The template does not parse, goes over a limit, fails or is too slow"},
    503: {"description": "Every compile process is busy; see Retry-After"},
}


@router.post("/templates/preview", responses=_PREVIEW_ERRORS)
async def preview_template(body: TemplatePreview, _user: CurrentUser) -> TemplateValue:
    """Render a template as a run would, with the sandbox's bounds, in a compile process."""
    scope = body.scope.model_dump()
    value = await compile_pool.current().render(body.template, scope, secrets=None)
    return TemplateValue(value=value)


@router.post("/workflows/{workflow_id}/test-step", responses=_PREVIEW_ERRORS)
async def test_step(
    workflow_id: uuid.UUID,
    body: StepTest,
    user: CurrentUser,
    _: StartRateLimit,
    pool: PoolDep,
    state: StateDep,
) -> StepTestResult:
    """Run one python, transform or http_request node of the draft once with ``scope``:
    python in the workers' sandbox, http under the platform's egress policy. Counts
    against the user's start rate (429)."""
    result = await step_test.try_step(
        body.node,
        body.scope.model_dump(),
        pool=pool,
        claims=user.claims,
        workflow_id=workflow_id,
        sandbox=state.step_sandbox,
        compiler=compile_pool.current(),
        vault=state.vault,
    )
    return StepTestResult.model_validate(result, from_attributes=True)
