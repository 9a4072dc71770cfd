"""The activity behind `http_request` nodes (and for_each steps of that type).

The workflow renders the request's templates (deterministically) and hands the activity a
plain request; the activity only does I/O. A non-2xx answer raises a retryable
``ApplicationError`` so the node's retry policy applies, unless the node turned
``fail_on_status`` off.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

__all__ = ["perform"]


def _decode(response: httpx.Response) -> Any:
    content_type = response.headers.get("content-type", "")
    if "json" in content_type.lower():
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            pass
    return response.text


async def perform(
    request: Mapping[str, Any], *, transport: httpx.AsyncBaseTransport | None = None
) -> dict[str, Any]:
    """Send ``request`` (method, url, headers, body, timeout_s, fail_on_status).

    Returns ``{"output": {"status", "headers", "body"}, "attempt": n}``.
    """
    method = str(request.get("method", "GET")).upper()
    url = str(request["url"])
    headers = {str(k): str(v) for k, v in (request.get("headers") or {}).items()}
    body = request.get("body")
    kwargs: dict[str, Any] = {}
    if isinstance(body, str):
        kwargs["content"] = body.encode()
    elif body is not None:
        kwargs["json"] = body
    try:
        async with httpx.AsyncClient(
            timeout=float(request.get("timeout_s", 30)), transport=transport
        ) as client:
            response = await client.request(method, url, headers=headers, **kwargs)
    except httpx.HTTPError as err:
        raise ApplicationError(
            f"{method} {url} failed: {type(err).__name__}: {err}", type="HttpTransportError"
        ) from err
    if request.get("fail_on_status", True) and not response.is_success:
        raise ApplicationError(
            f"{method} {url} answered HTTP {response.status_code}",
            {"status": response.status_code, "body": response.text[:2000]},
            type="HttpStatusError",
        )
    output = {
        "status": response.status_code,
        "headers": dict(response.headers.items()),
        "body": _decode(response),
    }
    return {"output": output, "attempt": _attempt()}


def _attempt() -> int | None:
    return activity.info().attempt if activity.in_activity() else None
