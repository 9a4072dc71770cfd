"""Where a manager reads the secrets its workers ask for (see runloom.worker.secrets_pipe).

Read for every request, as the service role, and decrypted with the vault the manager
built once at start: a secret changed through the API is what the next activity gets,
and nothing is cached in the manager to go stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from runloom.db import service_session
from runloom.db.pool import Pool
from runloom.manager.supervisor import SecretsReader
from runloom.store import secrets
from runloom.vault import Vault

__all__ = ["SecretsSource"]


@dataclass(frozen=True, slots=True)
class SecretsSource:
    pool: Pool
    vault: Vault

    def reader(self, project_id: UUID) -> SecretsReader:
        """What answers one project's worker."""

        async def read() -> dict[str, str]:
            async with service_session(self.pool) as conn:
                return await secrets.read_values(conn, project_id=project_id, vault=self.vault)

        return read
