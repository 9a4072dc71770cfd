"""What user-directed HTTP may reach from runloom's own processes: http nodes in workers,
failure notices from managers, and "Test this step" of http nodes in the API."""

from __future__ import annotations

from urllib.parse import urlsplit

from runloom.settings import Settings
from runloom_runtime.egress import EgressPolicy, parse_allow

__all__ = ["platform_egress"]


def platform_egress(settings: Settings, *, database_url: str) -> EgressPolicy:
    """What http nodes may reach: public addresses, what the operator allows, and never
    the platform's own services (refused even where they are public)."""
    own = [settings.temporal_address, f"{settings.runloom_host}:{settings.runloom_port}"]
    for url in (database_url, settings.temporal_ui_url):
        parsed = urlsplit(url)
        if parsed.hostname and parsed.port:
            own.append(f"{parsed.hostname}:{parsed.port}")
    return EgressPolicy(
        allow=parse_allow(settings.runloom_egress_allow),
        deny=tuple(dict.fromkeys(own)),
        max_body_bytes=settings.runloom_http_max_body_mb * 1024 * 1024,
    )
