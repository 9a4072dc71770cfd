"""Token buckets and limiters, on a clock the test moves by hand (nothing sleeps)."""

from __future__ import annotations

import pytest

from runloom.api.ratelimit import Limiter, Rate, RateLimits, TokenBucket
from runloom.errors import RateLimitedError
from runloom.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_gives_its_burst_then_refills_at_its_rate() -> None:
    bucket = TokenBucket(capacity=3, refill_per_s=0.5, now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == pytest.approx(2.0)  # one token every 2 s
    assert bucket.take(1.0) == pytest.approx(1.0)  # half a token so far
    assert bucket.take(2.0) == 0.0
    assert bucket.take(2.0) == pytest.approx(2.0)


def test_bucket_never_holds_more_than_its_capacity() -> None:
    bucket = TokenBucket(capacity=2, refill_per_s=1.0, now=0.0)
    assert bucket.take(3600.0) == 0.0
    assert bucket.take(3600.0) == 0.0
    assert bucket.take(3600.0) > 0


def test_a_clock_that_steps_back_refills_nothing() -> None:
    bucket = TokenBucket(capacity=1, refill_per_s=1.0, now=10.0)
    assert bucket.take(10.0) == 0.0
    assert bucket.take(5.0) == pytest.approx(1.0)
    assert bucket.take(10.5) == pytest.approx(0.5)


def test_bucket_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="capacity"):
        TokenBucket(capacity=0, refill_per_s=1.0, now=0.0)
    with pytest.raises(ValueError, match="refill"):
        TokenBucket(capacity=1, refill_per_s=0.0, now=0.0)


def test_limiter_keeps_one_bucket_per_key_and_says_what_and_when() -> None:
    clock = Clock()
    limiter = Limiter(
        rate=Rate(per_minute=6, burst=2), what="widgets", setting="RUNLOOM_WIDGETS", clock=clock
    )
    limiter.hit("a", who="for a")
    limiter.hit("a", who="for a")
    limiter.hit("b", who="for b")  # another key has its own budget
    with pytest.raises(RateLimitedError) as refused:
        limiter.hit("a", who="for a")
    assert refused.value.retry_after_s == pytest.approx(10.0)
    assert str(refused.value) == (
        "too many widgets for a: at most 6 a minute, in bursts of up to 2 "
        "(RUNLOOM_WIDGETS); retry in 10 s"
    )
    clock.now += 10
    limiter.hit("a", who="for a")


def test_refused_requests_do_not_dig_the_hole_deeper() -> None:
    clock = Clock()
    limiter = Limiter(rate=Rate(per_minute=60, burst=1), what="x", setting="S", clock=clock)
    limiter.hit("k", who="")
    for _ in range(50):
        with pytest.raises(RateLimitedError):
            limiter.hit("k", who="")
    clock.now += 1
    limiter.hit("k", who="")


def test_zero_per_minute_is_no_limit() -> None:
    limiter = Limiter(rate=Rate(per_minute=0, burst=1), what="x", setting="S", clock=Clock())
    for _ in range(1000):
        limiter.hit("k", who="")
    assert len(limiter) == 0


def test_memory_is_bounded_by_evicting_the_least_recently_seen_key() -> None:
    clock = Clock()
    limiter = Limiter(
        rate=Rate(per_minute=1, burst=1), what="x", setting="S", clock=clock, max_keys=3
    )
    for key in ("a", "b", "c"):
        limiter.hit(key, who="")
    with pytest.raises(RateLimitedError):
        limiter.hit("a", who="")  # "a" is now the most recently seen
    limiter.hit("d", who="")  # evicts "b"
    assert len(limiter) == 3
    with pytest.raises(RateLimitedError):
        limiter.hit("a", who="")  # still remembered, still empty
    limiter.hit("b", who="")  # forgotten, so a fresh bucket


def test_rate_limits_from_settings_count_ip_and_email_separately() -> None:
    clock = Clock()
    limits = RateLimits(
        Settings(
            runloom_rate_auth_per_minute=3,
            runloom_rate_auth_email_per_minute=2,
            runloom_rate_starts_per_minute=60,
            runloom_rate_starts_burst=1,
        ),
        clock=clock,
    )
    limits.check_auth(ip="10.0.0.1", email="a@example.test")
    limits.check_auth(ip="10.0.0.1", email="A@example.test")  # same email, any case
    with pytest.raises(RateLimitedError, match=r"for a@example\.test.*EMAIL_PER_MINUTE"):
        limits.check_auth(ip="10.0.0.2", email="a@example.test")
    limits.check_auth(ip="10.0.0.1", email="b@example.test")  # the IP's third
    with pytest.raises(RateLimitedError, match=r"from 10\.0\.0\.1.*AUTH_PER_MINUTE\)"):
        limits.check_auth(ip="10.0.0.1", email="c@example.test")
    limits.check_start(user_id="u1")
    with pytest.raises(RateLimitedError, match="run starts by you"):
        limits.check_start(user_id="u1")
    limits.check_start(user_id="u2")
    clock.now += 1
    limits.check_start(user_id="u1")


def test_webhook_calls_are_counted_per_trigger() -> None:
    clock = Clock()
    limits = RateLimits(Settings(runloom_rate_webhooks_per_minute=2), clock=clock)
    limits.check_webhook(trigger_id="t1")
    limits.check_webhook(trigger_id="t1")
    with pytest.raises(RateLimitedError, match=r"webhook calls to this webhook.*WEBHOOKS"):
        limits.check_webhook(trigger_id="t1")
    limits.check_webhook(trigger_id="t2")
    clock.now += 30  # one token back at two a minute
    limits.check_webhook(trigger_id="t1")
