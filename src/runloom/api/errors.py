"""The one place where runloom's exceptions become HTTP answers."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable

import psycopg
from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout

from runloom.api.live import StreamLimitError
from runloom.auth import AuthError
from runloom.compiler import GraphInvalid
from runloom.errors import (
    ConfigurationError,
    ConflictError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    QuotaExceededError,
    RateLimitedError,
    RunloomError,
)
from runloom.services.compile_pool import CompilerBusyError
from runloom.services.runs import StartFailedError
from runloom.services.temporal import TemporalUnavailableError
from runloom.services.worker_requests import WorkerUnavailableError
from runloom.vault import VaultError

log = logging.getLogger(__name__)

_STATUS: list[tuple[type[Exception], int]] = [
    (AuthError, status.HTTP_401_UNAUTHORIZED),
    (StreamLimitError, status.HTTP_429_TOO_MANY_REQUESTS),
    (NotFoundError, status.HTTP_404_NOT_FOUND),
    # Rates answer 429 with Retry-After; counts (projects, workers, open runs) answer 403:
    # waiting alone does not make room for another project.
    (RateLimitedError, status.HTTP_429_TOO_MANY_REQUESTS),
    (QuotaExceededError, status.HTTP_403_FORBIDDEN),
    (ForbiddenError, status.HTTP_403_FORBIDDEN),
    (ConflictError, status.HTTP_409_CONFLICT),
    (InvalidRequestError, status.HTTP_422_UNPROCESSABLE_CONTENT),
    (TemporalUnavailableError, status.HTTP_503_SERVICE_UNAVAILABLE),
    (WorkerUnavailableError, status.HTTP_503_SERVICE_UNAVAILABLE),
    (CompilerBusyError, status.HTTP_503_SERVICE_UNAVAILABLE),
    (StartFailedError, status.HTTP_502_BAD_GATEWAY),
    (ConfigurationError, status.HTTP_500_INTERNAL_SERVER_ERROR),
    # A value that does not decrypt: the operator's key is not the one it was stored under.
    (VaultError, status.HTTP_500_INTERNAL_SERVER_ERROR),
]


def _status_of(exc: Exception) -> int:
    for kind, code in _STATUS:
        if isinstance(exc, kind):
            return code
    return status.HTTP_400_BAD_REQUEST


async def _runloom_error(_: Request, exc: Exception) -> JSONResponse:
    code = _status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
    body: dict[str, object] = {"detail": str(exc)}
    if isinstance(exc, RateLimitedError):
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after_s)))}
        body["retry_after_s"] = round(exc.retry_after_s, 3)
    elif isinstance(exc, QuotaExceededError):
        body.update(quota=exc.quota, setting=exc.setting, limit=exc.limit)
    elif isinstance(exc, CompilerBusyError):
        headers = {"Retry-After": str(math.ceil(exc.retry_after_s))}
    return JSONResponse(body, status_code=code, headers=headers)


async def _graph_invalid(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, GraphInvalid)
    return JSONResponse(
        {
            "detail": f"the workflow graph has {len(exc.problems)} problem(s); fix them "
            "and try again",
            "problems": [
                {
                    "code": p.code,
                    "message": p.message,
                    "node_id": p.node_id,
                    "edge_index": p.edge_index,
                    "severity": p.severity,
                }
                for p in exc.problems
            ],
        },
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
        problems.append(f"{where or 'body'}: {error.get('msg')}")
    return JSONResponse(
        {
            "detail": "; ".join(problems) or "invalid request",
            "errors": jsonable_encoder(exc.errors()),
        },
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


async def _data_error(_: Request, exc: Exception) -> JSONResponse:
    # Raised for what a request carried: text with NUL characters, a number or date
    # Postgres cannot hold. Its message names the value's problem, never the data.
    log.info("data refused by the database: %s", exc)
    return JSONResponse(
        {"detail": f"a value in the request cannot be stored: {exc}"},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


def _unavailable(detail: str) -> Callable[[Request, Exception], Awaitable[JSONResponse]]:
    """A 503 with Retry-After: the database cannot serve this request now, a retry may."""

    async def answer(_: Request, exc: Exception) -> JSONResponse:
        log.warning("%s: %s", detail, exc)
        return JSONResponse(
            {"detail": detail},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "1"},
        )

    return answer


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RunloomError, _runloom_error)
    app.add_exception_handler(
        psycopg.OperationalError,
        _unavailable("the database is unavailable (restarting or unreachable); retry shortly"),
    )
    app.add_exception_handler(psycopg.DataError, _data_error)
    app.add_exception_handler(
        PoolTimeout, _unavailable("runloom is busy: no database connection was free in time; retry")
    )
    app.add_exception_handler(GraphInvalid, _graph_invalid)
    app.add_exception_handler(RequestValidationError, _validation_error)
