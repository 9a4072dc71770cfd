"""Every request gets an id: the caller's ``X-Request-ID`` when it is a safe token, else a
new one. It is returned in the response's ``X-Request-ID`` and put on every log line
written while the request is served (runloom.logs), with the run or project its path
names; one access line a request is logged at INFO (shown with RUNLOOM_LOG_FORMAT=json)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar, Token

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runloom import logs, tracing

__all__ = ["HEADER", "RequestIds", "observe_api"]

HEADER = "X-Request-ID"
# What a proxy or client may choose: short, printable, nothing a log reader could be
# fooled by (no spaces, quotes or newlines).
_SAFE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_NAMED = re.compile(r"/api/(projects|executions)/([0-9a-fA-F-]{36})(?:/|$)")

log = logging.getLogger("runloom.api.access")

_Ids = list[tuple[ContextVar[str | None], Token[str | None]]]


def request_id_of(headers: Headers) -> str:
    """The caller's id when it is safe to log, else a new one."""
    incoming = headers.get(HEADER.lower(), "")
    return incoming if _SAFE.fullmatch(incoming) else uuid.uuid4().hex


def _set_ids(
    scope: Scope, request_id: str
) -> list[tuple[ContextVar[str | None], Token[str | None]]]:
    tokens: _Ids = [(logs.request_id, logs.request_id.set(request_id))]
    named = _NAMED.match(scope.get("path", ""))
    if named is not None:
        variable = logs.project_id if named.group(1) == "projects" else logs.run_id
        tokens.append((variable, variable.set(named.group(2).lower())))
    return tokens


class RequestIds:
    """Pure ASGI (no BaseHTTPMiddleware): streaming responses pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(Headers(scope=scope))
        tokens = _set_ids(scope, request_id)
        status = 500
        began = time.monotonic()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            # The path only: query strings may carry tickets or tokens.
            log.info(
                "%s %s %d %.0fms",
                scope.get("method", ""),
                scope.get("path", ""),
                status,
                (time.monotonic() - began) * 1000,
            )
            for variable, token in reversed(tokens):
                variable.reset(token)


def observe_api(app: FastAPI) -> None:
    """Request ids, and tracing of requests and SQL when an OTLP endpoint is configured."""
    app.add_middleware(RequestIds)
    tracing.instrument_api(app)
