"""Step details of an execution: what each node received and returned, its attempts,
times, error and logs (runloom.services.steps), and a step's whole value on its own."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter
from temporalio.client import Client

from runloom.api.deps import CurrentUser, PoolDep, SettingsDep, TemporalClientDep
from runloom.api.schemas_steps import StepList, StepOut
from runloom.auth import Principal
from runloom.db.pool import Pool
from runloom.services import steps

router = APIRouter(prefix="/executions/{execution_id}/steps", tags=["executions"])

_VALUE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}}, "description": "The value, as JSON"},
    404: {"description": "No such execution or step, or its output was not kept"},
}
_ANY: TypeAdapter[Any] = TypeAdapter(Any)
ItemQuery = Annotated[
    int | None, Query(ge=0, description="Which item of a for_each node (its `item_index`)")
]


@router.get("")
async def list_steps(
    execution_id: uuid.UUID,
    user: CurrentUser,
    pool: PoolDep,
    client: TemporalClientDep,
    settings: SettingsDep,
) -> StepList:
    """Every node that ran (and every item of a for_each), live or ended, whether or not
    its worker still runs; values over RUNLOOM_STEP_VALUE_MAX_KB are cut (`truncated`)."""
    found = await steps.step_details(
        pool, client, claims=user.claims, execution_id=execution_id, settings=settings
    )
    return StepList(steps=[StepOut.of(step) for step in found])


async def _value(
    part: Literal["input", "output"],
    *,
    execution_id: uuid.UUID,
    node_id: str,
    item: int | None,
    user: Principal,
    pool: Pool,
    client: Client,
) -> Response:
    value = await steps.step_value(
        pool,
        client,
        claims=user.claims,
        execution_id=execution_id,
        node_id=node_id,
        item=item,
        part=part,
    )
    # As the step list serializes values (a NaN an http node read becomes null), not
    # json.dumps, which refuses it.
    return Response(_ANY.dump_json(value), media_type="application/json")


@router.get("/{node_id}/output", response_class=JSONResponse, responses=_VALUE)
async def step_output(
    execution_id: uuid.UUID,
    node_id: str,
    user: CurrentUser,
    pool: PoolDep,
    client: TemporalClientDep,
    item: ItemQuery = None,
) -> Response:
    """The step's whole output, however large."""
    return await _value(
        "output",
        execution_id=execution_id,
        node_id=node_id,
        item=item,
        user=user,
        pool=pool,
        client=client,
    )


@router.get("/{node_id}/input", response_class=JSONResponse, responses=_VALUE)
async def step_input(
    execution_id: uuid.UUID,
    node_id: str,
    user: CurrentUser,
    pool: PoolDep,
    client: TemporalClientDep,
    item: ItemQuery = None,
) -> Response:
    """The step's whole input, however large."""
    return await _value(
        "input",
        execution_id=execution_id,
        node_id=node_id,
        item=item,
        user=user,
        pool=pool,
        client=client,
    )
