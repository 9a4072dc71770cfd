"""What the API process holds for its whole life, created in the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass

from runloom.db.pool import Pool
from runloom.settings import Settings
from runloom.temporal.connection import TemporalConnection


@dataclass(frozen=True, slots=True)
class AppState:
    settings: Settings
    pool: Pool
    temporal: TemporalConnection
