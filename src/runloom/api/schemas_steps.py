"""Response bodies of the step-details routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from runloom.services.step_history import Step


class StepErrorOut(BaseModel):
    type: str
    message: str
    traceback: list[str] = Field(
        description="For python nodes, the traceback through the node's own code only"
    )


class StepOut(BaseModel):
    node_id: str
    type: str | None = Field(description="The node's type in the version that ran")
    status: str = Field(description="`running`, `completed` or `failed`")
    input: Any
    output: Any
    error: StepErrorOut | None
    attempts: int | None
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    logs: list[str] = Field(description="What the step printed or logged, a line each")
    item_index: int | None = Field(description="The item of a for_each; null for a node")
    truncated: bool = Field(
        description="Input or output was cut at RUNLOOM_STEP_VALUE_MAX_KB (or the output is "
        "not kept); `.../steps/{node_id}/output` answers the whole"
    )

    @classmethod
    def of(cls, step: Step) -> StepOut:
        error = step.error
        return cls(
            node_id=step.node_id,
            type=step.type,
            status=step.status,
            input=step.input,
            output=step.output,
            error=None
            if error is None
            else StepErrorOut(
                type=error.type, message=error.message, traceback=list(error.traceback)
            ),
            attempts=step.attempts,
            started_at=step.started_at,
            finished_at=step.finished_at,
            duration_ms=step.duration_ms,
            logs=list(step.logs),
            item_index=step.item_index,
            truncated=step.truncated,
        )


class StepList(BaseModel):
    steps: list[StepOut]
