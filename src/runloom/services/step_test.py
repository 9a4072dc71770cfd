""" "Test this step": run one python, transform or http_request node of a draft graph with
sample data (the last run's, or what the user typed), as a run would run it.

* python code runs in the same sandbox as in workers (:mod:`runloom.sandbox`): a runner
  pool of the API process, created on first use, with the workers' limits and timeouts,
  no network unless the project's ``python_network`` says so (then through the same
  egress proxy and policy as workers);
* an http request's templates render in a compile process (bounded like a preview), and
  the request goes through :func:`runloom_runtime.http.perform` under the platform's
  egress policy: the platform's own services, loopback, private and link-local
  addresses are refused before any socket opens;
* a transform renders in a compile process.

The project's secrets are resolved as runs resolve them, and redacted from what comes
back, as activities redact what Temporal records.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError
from temporalio.exceptions import ApplicationError

from runloom.compiler.model import HttpRequestNode, PythonNode, TransformNode
from runloom.db.pool import Pool
from runloom.db.session import Claims, service_session, user_session
from runloom.errors import InvalidRequestError
from runloom.sandbox import RunnerPool, SandboxError
from runloom.services.compile_pool import CompilePool, TemplateRenderError
from runloom.settings import Settings
from runloom.store import projects, secrets, workflows
from runloom.vault import Vault
from runloom_runtime import http, project_secrets
from runloom_runtime.egress import EgressPolicy

__all__ = ["StepNode", "StepResult", "StepSandbox", "parse_node", "try_step"]

StepNode = PythonNode | TransformNode | HttpRequestNode
_NODE: TypeAdapter[StepNode] = TypeAdapter(
    Annotated[PythonNode | TransformNode | HttpRequestNode, Field(discriminator="type")]
)
_POOL_SIZE = 2  # python steps under test at once, per network setting, per API process
_SCOPE_KEYS = ("input", "steps", "item", "index", "error")
_HTTP_LIMIT_S = 60.0  # a tested request, redirects and body included


@dataclass(frozen=True, kw_only=True)
class StepResult:
    """What the step returned (``ok``), or its error; what it logged; how long it took."""

    ok: bool
    output: Any = None
    error: dict[str, Any] | None = None
    logs: list[str] = field(default_factory=list)
    duration_ms: int = 0


class StepSandbox:
    """The API process's python runners for tested steps (see the module docstring)."""

    def __init__(self, settings: Settings, *, egress: EgressPolicy) -> None:
        self._isolation = settings.runloom_python_isolation
        self._egress = egress
        self._pools: dict[bool, RunnerPool] = {}
        self._lock = asyncio.Lock()

    async def pool(self, *, network: bool) -> RunnerPool:
        async with self._lock:
            pool = self._pools.get(network)
            if pool is None:
                pool = RunnerPool(
                    isolation=self._isolation,
                    size=_POOL_SIZE,
                    warm=0,
                    network=network,
                    egress=self._egress if network else None,
                )
                await pool.start()
                self._pools[network] = pool
            return pool

    @property
    def egress(self) -> EgressPolicy:
        return self._egress

    async def close(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        await asyncio.gather(*(p.close() for p in pools), return_exceptions=True)


def parse_node(raw: Mapping[str, Any]) -> StepNode:
    """The node as the compiler reads it; only python, transform and http_request."""
    kind = raw.get("type")
    if kind not in ("python", "transform", "http_request"):
        raise InvalidRequestError(
            f"only python, transform and http_request steps can be tested, not {kind!r}"
        )
    try:
        return _NODE.validate_python(dict(raw))
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or "node"
        raise InvalidRequestError(f"the step is not valid: {where}: {first['msg']}") from None


async def try_step(
    raw_node: Mapping[str, Any],
    scope: Mapping[str, Any],
    *,
    pool: Pool,
    claims: Claims,
    workflow_id: uuid.UUID,
    sandbox: StepSandbox,
    compiler: CompilePool,
    vault: Vault,
) -> StepResult:
    """Run ``raw_node`` of the user's workflow once with ``scope``."""
    node = parse_node(raw_node)
    async with user_session(pool, claims) as conn:
        workflow = await workflows.get_workflow(conn, workflow_id)
        project = await projects.get_project(conn, workflow.project_id)
    async with service_session(pool) as conn:
        known = await secrets.read_values(conn, project_id=project.id, vault=vault)
    args = {key: scope.get(key) for key in _SCOPE_KEYS}
    started = time.monotonic()
    if isinstance(node, PythonNode):
        result = await _python(node, args, sandbox, network=project.python_network, known=known)
    else:
        result = await _templated(node, args, sandbox, compiler, known)
    result = project_secrets.redact(result, known)
    elapsed = int((time.monotonic() - started) * 1000)
    return StepResult(**{**result, "duration_ms": elapsed})


def _lines(logs: Any) -> list[str]:
    if isinstance(logs, list):
        return [str(line) for line in logs]
    return str(logs).splitlines() if logs else []


async def _python(
    node: PythonNode,
    args: Mapping[str, Any],
    sandbox: StepSandbox,
    *,
    network: bool,
    known: Mapping[str, str],
) -> dict[str, Any]:
    code = node.config.code
    try:
        runners = await sandbox.pool(network=network)
        reply = await runners.call(
            code=code,
            node_id=node.id,
            args=args,
            timeout_s=node.timeout_s,
            secrets=known if "secrets" in code else None,
        )
    except SandboxError as err:
        return {"ok": False, "error": {"type": "SandboxUnavailable", "message": str(err)}}
    if reply.ok:
        return {"ok": True, "output": reply.output, "logs": _lines(reply.logs)}
    error = {"type": reply.error_type, "message": reply.error_message}
    if reply.traceback:
        error["traceback"] = reply.traceback
    return {"ok": False, "error": error, "logs": _lines(reply.logs)}


async def _templated(
    node: TransformNode | HttpRequestNode,
    args: Mapping[str, Any],
    sandbox: StepSandbox,
    compiler: CompilePool,
    known: Mapping[str, str],
) -> dict[str, Any]:
    template = (
        node.config.output
        if isinstance(node, TransformNode)
        else node.config.model_dump(mode="json")
    )
    try:
        value = await compiler.render(template, args, secrets=dict(known))
    except TemplateRenderError as err:
        return {"ok": False, "error": {"type": "TemplateError", "message": str(err)}}
    if isinstance(node, TransformNode):
        return {"ok": True, "output": value}
    try:
        sent = await asyncio.wait_for(http.perform(value, policy=sandbox.egress), _HTTP_LIMIT_S)
    except TimeoutError:
        message = f"the request took longer than {_HTTP_LIMIT_S:g} s"
        return {"ok": False, "error": {"type": "TimeoutError", "message": message}}
    except ApplicationError as err:
        details = err.details[0] if err.details and isinstance(err.details[0], dict) else {}
        error = {"type": err.type or "Error", "message": err.message}
        return {"ok": False, "error": error, "logs": _lines(details.get("logs"))}
    return {"ok": True, "output": sent["output"], "logs": _lines(sent.get("logs"))}
