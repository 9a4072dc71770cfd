"""What the API process holds for its whole life, created in the app's lifespan."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from runloom.api.live import LiveHub
from runloom.db.pool import Pool
from runloom.services.step_test import StepSandbox
from runloom.services.temporal import TemporalConnection
from runloom.settings import Settings
from runloom.store.installation import PlatformQueue
from runloom.vault import Vault


@dataclass(frozen=True, slots=True)
class AppState:
    settings: Settings
    pool: Pool
    temporal: TemporalConnection
    live: LiveHub
    vault: Vault
    platform_queue: PlatformQueue
    step_sandbox: StepSandbox
    known_users: set[uuid.UUID] = field(default_factory=set)

    @property
    def token_secrets(self) -> list[str]:
        secrets = [self.settings.runloom_jwt_secret.get_secret_value()]
        if self.settings.supabase_jwt_secret is not None:
            secrets.append(self.settings.supabase_jwt_secret.get_secret_value())
        return secrets
