"""A worker's activities get their project's secrets by asking the manager over the pipe."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.exceptions import ApplicationError

from runloom.worker import protocol
from runloom.worker.secrets_pipe import SecretsPipe
from runloom_runtime import project_secrets


async def test_each_call_asks_and_gets_the_answer_to_its_own_request() -> None:
    sent: list[protocol.SecretsRequest] = []
    pipe = SecretsPipe(sent.append)
    pipe.install()
    try:
        first = asyncio.create_task(project_secrets.current())
        second = asyncio.create_task(project_secrets.current())
        await asyncio.sleep(0)
        assert [r.request_id for r in sent] == [1, 2]
        # Answered out of order, and one answer twice: each call gets its own.
        pipe.answer(protocol.Secrets(request_id=2, values={"K": "second"}))
        pipe.answer(protocol.Secrets(request_id=1, values={"K": "first"}))
        pipe.answer(protocol.Secrets(request_id=1, values={"K": "late"}))
        assert dict(await first) == {"K": "first"}
        assert dict(await second) == {"K": "second"}
    finally:
        pipe.close()
    assert dict(await project_secrets.current()).get("K") is None  # back to the environment


async def test_no_answer_in_time_is_a_retryable_error() -> None:
    pipe = SecretsPipe(lambda _: None, timeout_s=0.05)
    with pytest.raises(ApplicationError) as caught:
        await pipe.fetch()
    assert caught.value.type == "SecretsUnavailable" and not caught.value.non_retryable
    assert "could not be fetched" in caught.value.message and "0.05 s" in caught.value.message
    pipe.answer(protocol.Secrets(request_id=1, values={}))  # too late: dropped


async def test_a_refusal_from_the_manager_is_a_retryable_error() -> None:
    sent: list[protocol.SecretsRequest] = []
    pipe = SecretsPipe(sent.append)
    call = asyncio.create_task(pipe.fetch())
    await asyncio.sleep(0)
    pipe.answer(protocol.Secrets(request_id=sent[0].request_id, error="database away"))
    with pytest.raises(ApplicationError, match="could not be fetched: database away") as caught:
        await call
    assert not caught.value.non_retryable
