"""The API process's hub of live streams, on its own: fan-out, caps, resync."""

from __future__ import annotations

import uuid

import pytest

from runloom.api.live import LiveHub, StreamLimitError
from runloom.services.live_events import LiveEvent


def hub(**caps: int) -> LiveHub:
    return LiveHub(
        "postgresql://unused",
        per_user=caps.get("per_user", 3),
        per_process=caps.get("per_process", 5),
    )


async def test_an_event_reaches_every_stream_of_its_run_and_no_other() -> None:
    live = hub()
    user = uuid.uuid4()
    run, other = uuid.uuid4(), uuid.uuid4()
    a, b = live.subscribe(run, user_id=user), live.subscribe(run, user_id=user)
    c = live.subscribe(other, user_id=user)
    event = LiveEvent(run, {"n": {"status": "running"}})
    live.dispatch(event)
    assert a.queue.get_nowait() == event and b.queue.get_nowait() == event
    assert c.queue.empty()
    live.dispatch(None)  # the listener reconnected: everyone reads again
    assert [s.queue.get_nowait() for s in (a, b, c)] == [None, None, None]


async def test_caps_per_user_and_per_process_and_release_on_unsubscribe() -> None:
    live = hub(per_user=2, per_process=3)
    alice, bob = uuid.uuid4(), uuid.uuid4()
    first = live.subscribe(uuid.uuid4(), user_id=alice)
    live.subscribe(uuid.uuid4(), user_id=alice)
    with pytest.raises(StreamLimitError, match="RUNLOOM_STREAMS_PER_USER"):
        live.subscribe(uuid.uuid4(), user_id=alice)
    live.subscribe(uuid.uuid4(), user_id=bob)
    with pytest.raises(StreamLimitError, match="RUNLOOM_STREAMS_PER_PROCESS"):
        live.subscribe(uuid.uuid4(), user_id=bob)
    live.unsubscribe(first)
    live.unsubscribe(first)  # twice is harmless
    live.subscribe(uuid.uuid4(), user_id=alice)
    assert live.open_streams == 3


async def test_a_stream_that_falls_behind_is_told_to_read_again() -> None:
    live = hub()
    run = uuid.uuid4()
    sub = live.subscribe(run, user_id=uuid.uuid4())
    for i in range(sub.queue.maxsize + 10):
        live.dispatch(LiveEvent(run, {"n": {"i": i}}))
    queued = [sub.queue.get_nowait() for _ in range(sub.queue.qsize())]
    assert None in queued
    assert len(queued) <= sub.queue.maxsize


async def test_a_retry_follows_the_events_under_its_shared_workflow_id() -> None:
    live = hub()
    user = uuid.uuid4()
    original, retry = uuid.uuid4(), uuid.uuid4()
    sub = live.subscribe(retry, user_id=user)
    live.alias(sub, original)
    live.alias(sub, retry)  # its own id is no alias
    live.dispatch(LiveEvent(original, {"call": {"status": "running"}}))  # what workers report
    live.dispatch(LiveEvent(retry, {}, finished=True))  # what the tracker reports
    assert [e.execution_id for e in (sub.queue.get_nowait(), sub.queue.get_nowait())] == [
        original,
        retry,
    ]
    live.dispatch(None)  # a resync reaches it once, not once per id it follows
    assert sub.queue.get_nowait() is None and sub.queue.empty()
    live.unsubscribe(sub)
    assert live.open_streams == 0
    live.dispatch(LiveEvent(original, {}))
    assert sub.queue.empty()
