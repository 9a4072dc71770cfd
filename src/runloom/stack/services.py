"""Bring up what `runloom up` / `dev-stack` need: embedded where unset, reused where running."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlparse

from runloom.errors import ConfigurationError
from runloom.services.temporal import temporal_access
from runloom.settings import Settings
from runloom.stack.postgres import EmbeddedPostgres
from runloom.stack.temporal_server import (
    TemporalDevServer,
    require_secured_temporal,
    temporal_answers,
)


@dataclass(frozen=True, slots=True)
class Services:
    database_url: str
    temporal_address: str
    temporal_ui_url: str
    embedded_database: bool
    embedded_temporal: bool


_LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}

Report = Callable[[str], None]


def _ui_port(settings: Settings) -> int:
    port = urlparse(settings.temporal_ui_url).port
    if port is None:
        raise ConfigurationError(
            f"TEMPORAL_UI_URL {settings.temporal_ui_url!r} must name a port, "
            "e.g. http://localhost:8233"
        )
    return port


@contextmanager
def running_services(settings: Settings, *, report: Report = lambda _: None) -> Iterator[Services]:
    """Start what is missing, yield the addresses, and stop exactly what was started."""
    data_dir = settings.runloom_data_dir.resolve()
    postgres: EmbeddedPostgres | None = None
    temporal: TemporalDevServer | None = None
    try:
        if settings.database_url:
            database_url = settings.database_url
            report("database: using DATABASE_URL")
        else:
            postgres = EmbeddedPostgres(data_dir / "postgres", settings.runloom_pg_port)
            report(f"database: starting embedded Postgres on port {settings.runloom_pg_port}")
            postgres.start()
            database_url = postgres.url

        access = temporal_access(settings)
        if access.secured:
            require_secured_temporal(access)
            report(f"temporal: using the server at {settings.temporal_address} (TLS or key)")
        elif temporal_answers(settings.temporal_address):
            report(f"temporal: using the server at {settings.temporal_address}")
        elif settings.temporal_host not in _LOOPBACK:
            raise ConfigurationError(
                f"no Temporal server answers at TEMPORAL_ADDRESS={settings.temporal_address}; "
                "start it, or point TEMPORAL_ADDRESS at localhost to run the embedded dev server"
            )
        else:
            temporal = TemporalDevServer(
                data_dir / "temporal" / "temporal.db",
                host="127.0.0.1",
                port=settings.temporal_port,
                ui_port=_ui_port(settings),
            )
            report(f"temporal: starting the dev server on {settings.temporal_address}")
            temporal.start()

        yield Services(
            database_url=database_url,
            temporal_address=settings.temporal_address,
            temporal_ui_url=settings.temporal_ui_url,
            embedded_database=postgres is not None,
            embedded_temporal=temporal is not None,
        )
    finally:
        if temporal is not None:
            report("temporal: stopping the dev server")
            temporal.stop()
        if postgres is not None:
            report("database: stopping embedded Postgres")
            postgres.stop()
