"""Who may read the metrics endpoints (the API's ``GET /metrics`` and the manager's).

With ``RUNLOOM_METRICS_TOKEN`` set, a request must carry ``Authorization: Bearer
<token>``. Without it, the endpoints are open in development (they are meant for a
private network) and refused in production: per-project run counts are not for everyone
who can reach the API.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from runloom.settings import Settings

__all__ = ["Refusal", "refusal"]


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    message: str


def refusal(settings: Settings, authorization: str | None) -> Refusal | None:
    """Why a request with this ``Authorization`` header may not read metrics; None if it may."""
    token = settings.runloom_metrics_token
    if token is None:
        if settings.runloom_env == "production":
            return Refusal(
                403, "metrics are off: set RUNLOOM_METRICS_TOKEN to serve them in production"
            )
        return None
    scheme, _, given = (authorization or "").partition(" ")
    expected = token.get_secret_value()
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), expected.encode()
    ):
        return Refusal(401, "metrics need Authorization: Bearer <RUNLOOM_METRICS_TOKEN>")
    return None
