"""Bodies of the editor helpers: template previews and "Test this step"."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class TemplateScope(BaseModel):
    """What templates see: the run's input, earlier steps' outputs, and inside a for_each
    or on an error path ``item``, ``index`` and ``error``."""

    input: Any = None
    steps: dict[str, Any] = Field(default_factory=dict)
    item: Any = None
    index: int | None = None
    error: dict[str, Any] | None = None


class TemplatePreview(BaseModel):
    template: Any = Field(description="A template string, or JSON with template strings in it")
    scope: TemplateScope = Field(default_factory=TemplateScope)


class TemplateValue(BaseModel):
    value: Any = Field(
        description="The rendered value; `secrets.NAME` shows as «secret NAME», never its value"
    )


class StepTest(BaseModel):
    node: dict[str, Any] = Field(
        description="The node as in the draft graph: a python, transform or http_request node"
    )
    scope: TemplateScope = Field(default_factory=TemplateScope)


class StepTestError(BaseModel):
    type: str | None
    message: str | None
    traceback: str | None = None


class StepTestResult(BaseModel):
    ok: bool
    output: Any = None
    error: StepTestError | None = None
    logs: list[str] = Field(default_factory=list)
    duration_ms: int
