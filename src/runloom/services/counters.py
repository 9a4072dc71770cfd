"""Events only the process that saw them can count, for the API's ``GET /metrics``.

Kept out of any registry: the API's metrics endpoint registers them in its own, so that
several apps in one process (tests) do not clash over prometheus-client's global one.
"""

from __future__ import annotations

from prometheus_client import Counter

__all__ = ["QUOTA_REFUSALS"]

QUOTA_REFUSALS = Counter(
    "runloom_quota_refusals",
    "Requests refused because a user's quota was reached, by quota.",
    ["quota"],
    registry=None,
)
