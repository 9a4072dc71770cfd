"""Webhook calls: who may call (a bearer token or an HMAC signature of the body), what the
run receives (waiting for its outcome is `runs.wait_for_outcome`, shared with the API).

A webhook is reached without a user's token, so its trigger is looked up in a service
session and the run is started as the trigger's owner, limited to its project (as a
project-scoped API key is): RLS and quotas apply as for any start.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client

from runloom.auth import AuthError
from runloom.db.pool import Pool
from runloom.db.session import service_session
from runloom.errors import ConflictError, InvalidRequestError, NotFoundError
from runloom.models import Execution
from runloom.services import runs
from runloom.services.triggers import acting_claims, token_context, token_matches
from runloom.settings import Settings
from runloom.store import triggers
from runloom.store.executions import Origin
from runloom.store.triggers import TriggerPrincipal
from runloom.vault import Vault

__all__ = ["SIGNATURE_HEADER", "WebhookCall", "start_from_webhook"]

SIGNATURE_HEADER = "x-runloom-signature"
_SIGNATURE_SCHEME = "sha256="
# Never handed to the run: they carry the credentials of the call.
_HIDDEN_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", SIGNATURE_HEADER})
_HOW = (
    "send the webhook's token as 'Authorization: Bearer <token>', or sign the body with "
    f"'X-Runloom-Signature: {_SIGNATURE_SCHEME}<hex HMAC-SHA256 of the body keyed by the token>'"
)


@dataclass(frozen=True, slots=True)
class WebhookCall:
    trigger_id: uuid.UUID
    body: bytes
    headers: Mapping[str, str]  # names in lower case
    query: Mapping[str, list[str]]


def _bearer(headers: Mapping[str, str]) -> str | None:
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _authenticate(principal: TriggerPrincipal, call: WebhookCall, vault: Vault) -> None:
    assert principal.token_hash is not None and principal.token_ciphertext is not None
    token = _bearer(call.headers)
    if token is not None:
        if not token_matches(principal.token_hash, token):
            raise AuthError("the webhook token is wrong; " + _HOW)
        return
    signature = call.headers.get(SIGNATURE_HEADER)
    if signature is None:
        raise AuthError("this webhook needs its token: " + _HOW)
    if not signature.startswith(_SIGNATURE_SCHEME):
        raise AuthError(f"the signature must start with '{_SIGNATURE_SCHEME}'; " + _HOW)
    key = vault.decrypt(principal.token_ciphertext, context=token_context(principal.id))
    expected = hmac.new(key.encode(), call.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature[len(_SIGNATURE_SCHEME) :].strip().lower()):
        raise AuthError("the webhook signature does not match the body; " + _HOW)


def webhook_input(call: WebhookCall) -> Any:
    """The run's input: the JSON body (an object's keys at the top, anything else under
    `body`), with the call's headers and query under `_webhook`."""
    try:
        body = json.loads(call.body) if call.body.strip() else {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(f"the webhook body must be JSON (or empty): {exc}") from exc
    meta = {
        "headers": {k: v for k, v in call.headers.items() if k not in _HIDDEN_HEADERS},
        "query": {k: v[0] if len(v) == 1 else v for k, v in call.query.items()},
    }
    if isinstance(body, dict):
        return {**body, "_webhook": meta}
    return {"body": body, "_webhook": meta}


async def start_from_webhook(
    pool: Pool, client: Client, vault: Vault, *, call: WebhookCall, settings: Settings
) -> Execution:
    """Check the call, then start the workflow's active version (nothing starts on a
    refused call)."""
    async with service_session(pool) as conn:
        principal = await triggers.trigger_principal(conn, call.trigger_id)
    if principal is None or principal.type != "webhook":
        raise NotFoundError(f"webhook {call.trigger_id} not found")
    _authenticate(principal, call, vault)
    if not principal.enabled:
        raise ConflictError("this webhook is paused; resume it in the builder's Triggers panel")
    return await runs.start_execution(
        pool,
        client,
        claims=acting_claims(principal),
        workflow_id=principal.workflow_id,
        version=None,
        input=webhook_input(call),
        settings=settings,
        origin=Origin(triggered_by="webhook", trigger_id=principal.id),
    )
