"""What a webhook's run receives, and who may call it (no database: the checks are pure)."""

from __future__ import annotations

import hashlib
import hmac
import uuid

import pytest

from runloom.auth import AuthError, token_digest
from runloom.errors import InvalidRequestError
from runloom.services.triggers import token_context
from runloom.services.webhooks import WebhookCall, _authenticate, webhook_input
from runloom.store.triggers import TriggerPrincipal
from runloom.vault import Vault, generate_key, parse_keys


def _call(body: bytes, **headers: str) -> WebhookCall:
    return WebhookCall(trigger_id=uuid.uuid4(), body=body, headers=headers, query={})


def test_an_object_body_is_the_input_and_credentials_stay_out() -> None:
    call = WebhookCall(
        trigger_id=uuid.uuid4(),
        body=b'{"order": 7, "_webhook": "spoofed"}',
        headers={
            "authorization": "Bearer t",
            "x-runloom-signature": "s",
            "cookie": "c",
            "x-a": "1",
        },
        query={"tag": ["a", "b"], "one": ["1"]},
    )
    assert webhook_input(call) == {
        "order": 7,
        "_webhook": {"headers": {"x-a": "1"}, "query": {"tag": ["a", "b"], "one": "1"}},
    }
    assert webhook_input(_call(b"[1, 2]"))["body"] == [1, 2]
    assert webhook_input(_call(b"  "))["_webhook"] == {"headers": {}, "query": {}}
    with pytest.raises(InvalidRequestError, match="must be JSON"):
        webhook_input(_call(b"\xff\xfe"))


@pytest.fixture
def vault() -> Vault:
    return Vault(parse_keys(generate_key(), source="test"))


def _principal(vault: Vault, token: str) -> TriggerPrincipal:
    tid = uuid.uuid4()
    return TriggerPrincipal(
        id=tid,
        workflow_id=uuid.uuid4(),
        project_id=uuid.uuid4(),
        type="webhook",
        enabled=True,
        input={},
        token_hash=token_digest(token),
        token_ciphertext=vault.encrypt(token, context=token_context(tid)),
        user_id=uuid.uuid4(),
        email=None,
    )


def test_bearer_token_or_signature_of_this_very_body(vault: Vault) -> None:
    token = "rlh_" + "k" * 43
    principal = _principal(vault, token)
    body = b'{"n": 1}'
    _authenticate(principal, _call(body, authorization=f"Bearer {token}"), vault)
    _authenticate(principal, _call(body, authorization=f"bearer  {token} "), vault)
    signature = hmac.new(token.encode(), body, hashlib.sha256).hexdigest()
    _authenticate(principal, _call(body, **{"x-runloom-signature": f"sha256={signature}"}), vault)
    refused = [
        _call(body),
        _call(body, authorization="Bearer rlh_other"),
        _call(body, authorization=f"Token {token}"),
        _call(b'{"n": 2}', **{"x-runloom-signature": f"sha256={signature}"}),
        _call(body, **{"x-runloom-signature": signature}),
        _call(body, **{"x-runloom-signature": "sha256=" + "0" * 64}),
    ]
    for call in refused:
        with pytest.raises(AuthError):
            _authenticate(principal, call, vault)
