"""Rate limits: token buckets per client IP, per email and per user.

Routes declare them through the ``AuthRateLimit`` and ``StartRateLimit`` aliases of
:mod:`runloom.api.deps`, which call :meth:`RateLimits.check_auth` and
:meth:`RateLimits.check_start` before the route runs (so before a password is hashed or a
workflow compiled). A refusal raises :class:`~runloom.errors.RateLimitedError`; the API
answers 429 with ``Retry-After``.

The buckets live in the API process. Several API processes sharing one database each
enforce their own budget, so together they allow up to that many times each limit; put a
shared limiter in front of them (a proxy, a gateway) when that matters. The client IP is
the connection's peer as uvicorn reports it: behind a reverse proxy, start uvicorn with
``--forwarded-allow-ips`` naming the proxy, or every client shares the proxy's budget.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from runloom.errors import RateLimitedError
from runloom.settings import Settings

__all__ = ["Limiter", "Rate", "RateLimits", "TokenBucket", "client_ip", "get_rate_limits"]

Clock = Callable[[], float]

# Keys beyond this many (distinct IPs, emails, users) evict the least recently seen: the
# memory of a limiter is bounded whatever the clients send.
MAX_KEYS = 100_000


@dataclass(frozen=True, slots=True)
class Rate:
    """``per_minute`` tokens a minute into a bucket of ``burst``; 0 a minute is no limit."""

    per_minute: int
    burst: int

    @property
    def enabled(self) -> bool:
        return self.per_minute > 0


class TokenBucket:
    """Holds up to ``capacity`` tokens, refilled continuously; each request takes one."""

    __slots__ = ("_refill_per_s", "_stamp", "_tokens", "capacity")

    def __init__(self, *, capacity: float, refill_per_s: float, now: float) -> None:
        if capacity < 1 or refill_per_s <= 0:
            raise ValueError("a token bucket needs a capacity of at least 1 and a refill rate")
        self.capacity = capacity
        self._refill_per_s = refill_per_s
        self._tokens = capacity
        self._stamp = now

    def take(self, now: float) -> float:
        """Take a token: 0.0 if there was one, else the seconds until there will be."""
        elapsed = max(0.0, now - self._stamp)  # a clock that steps back refills nothing
        self._tokens = min(self.capacity, self._tokens + elapsed * self._refill_per_s)
        self._stamp = max(self._stamp, now)
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self._refill_per_s


class Limiter:
    """One bucket per key for one kind of request, under one setting."""

    def __init__(
        self,
        *,
        rate: Rate,
        what: str,
        setting: str,
        clock: Clock = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.rate = rate
        self.what = what
        self.setting = setting
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def hit(self, key: str, *, who: str) -> None:
        """Count one request for ``key``; RateLimitedError when its bucket is empty."""
        if not self.rate.enabled:
            return
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(
                capacity=self.rate.burst, refill_per_s=self.rate.per_minute / 60, now=now
            )
            self._buckets[key] = bucket
            while len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        wait_s = bucket.take(now)
        if wait_s > 0:
            retry = max(1, math.ceil(wait_s))
            raise RateLimitedError(
                f"too many {self.what} {who}: at most {self.rate.per_minute} a minute, in "
                f"bursts of up to {self.rate.burst} ({self.setting}); retry in {retry} s",
                retry_after_s=wait_s,
            )


class RateLimits:
    """The API process's limiters, from the settings."""

    def __init__(self, settings: Settings, *, clock: Clock = time.monotonic) -> None:
        auth = settings.runloom_rate_auth_per_minute
        per_email = settings.runloom_rate_auth_email_per_minute
        self.auth_ip = Limiter(
            rate=Rate(per_minute=auth, burst=max(1, auth)),
            what="sign-up and sign-in attempts",
            setting="RUNLOOM_RATE_AUTH_PER_MINUTE",
            clock=clock,
        )
        self.auth_email = Limiter(
            rate=Rate(per_minute=per_email, burst=max(1, per_email)),
            what="sign-up and sign-in attempts",
            setting="RUNLOOM_RATE_AUTH_EMAIL_PER_MINUTE",
            clock=clock,
        )
        self.starts = Limiter(
            rate=Rate(
                per_minute=settings.runloom_rate_starts_per_minute,
                burst=settings.runloom_rate_starts_burst,
            ),
            what="run starts",
            setting="RUNLOOM_RATE_STARTS_PER_MINUTE and RUNLOOM_RATE_STARTS_BURST",
            clock=clock,
        )
        hooks = settings.runloom_rate_webhooks_per_minute
        self.webhooks = Limiter(
            rate=Rate(per_minute=hooks, burst=max(1, hooks)),
            what="webhook calls",
            setting="RUNLOOM_RATE_WEBHOOKS_PER_MINUTE",
            clock=clock,
        )

    def check_auth(self, *, ip: str, email: str) -> None:
        """A sign-up or sign-in: counted per client IP, then (if that passed) per email."""
        self.auth_ip.hit(ip, who=f"from {ip}")
        self.auth_email.hit(email.lower(), who=f"for {email}")

    def check_start(self, *, user_id: str) -> None:
        """A run start (Build or a new execution) by the user."""
        self.starts.hit(user_id, who="by you")

    def check_webhook(self, *, trigger_id: str) -> None:
        """A call of one webhook, whoever makes it."""
        self.webhooks.hit(trigger_id, who="to this webhook")


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "an unknown address"


async def get_rate_limits(request: Request) -> RateLimits:
    """The limiters :func:`runloom.api.app.create_app` made for this app."""
    limits: RateLimits = request.app.state.rate_limits
    return limits
