"""Apply `supabase/migrations/*.sql` in file-name order, recorded as the Supabase CLI does.

History lives in `supabase_migrations.schema_migrations` (version, name, statements), so a
database migrated here and one migrated with `supabase db push` agree on what is applied.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from runloom.errors import RunloomError

_FILE_NAME = re.compile(r"^(?P<version>\d{14})_(?P<name>[a-z0-9_]+)\.sql$")

# An arbitrary constant: every runloom process migrating the same database queues on it.
_ADVISORY_LOCK_KEY = 0x72756E6C6F6F6D

_HISTORY_DDL = """
CREATE SCHEMA IF NOT EXISTS supabase_migrations;
CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (
  version text NOT NULL PRIMARY KEY,
  statements text[],
  name text
);
"""


class MigrationError(RunloomError):
    """A migration cannot be applied, or the history disagrees with the files."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: str
    name: str
    path: Path
    text: str

    @property
    def checksum(self) -> str:
        return _checksum(self.text)


def default_migrations_dir() -> Path:
    """The migrations of this checkout; installed packages carry a copy beside the code."""
    for base in (Path(__file__).resolve().parents[3], Path(__file__).resolve().parents[1]):
        candidate = base / "supabase" / "migrations"
        if candidate.is_dir():
            return candidate
    raise MigrationError("cannot find supabase/migrations beside the runloom package")


def discover(directory: Path) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationError(
                f"{path.name}: migration files must be named <14-digit version>_<name>.sql"
            )
        migrations.append(Migration(match["version"], match["name"], path, path.read_text("utf-8")))
    return migrations


def _checksum(text: str) -> str:
    # Whitespace-insensitive, so that history written by the Supabase CLI (which splits a
    # file into statements) compares equal to the file it came from.
    return hashlib.sha256(re.sub(r"[\s;]+", "", text).encode()).hexdigest()


def migrate(
    database_url: str,
    *,
    directory: Path | None = None,
    on_applied: Callable[[Migration], None] | None = None,
) -> list[Migration]:
    """Apply every pending migration, each in its own transaction; return those applied.

    Raises MigrationError, naming the file, when an applied migration's file has changed
    since, or when a migration fails (that file's changes are rolled back).
    """
    migrations = discover(directory or default_migrations_dir())
    applied_now: list[Migration] = []
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_ADVISORY_LOCK_KEY,))
        try:
            conn.execute(_HISTORY_DDL)
            history = {
                row[0]: row[1] or []
                for row in conn.execute(
                    "SELECT version, statements FROM supabase_migrations.schema_migrations"
                )
            }
            for migration in migrations:
                recorded = history.get(migration.version)
                if recorded is not None:
                    if _checksum("".join(recorded)) != migration.checksum:
                        raise MigrationError(
                            f"{migration.path.name} was changed after it was applied; "
                            "restore the applied text and put the change in a new migration"
                        )
                    continue
                try:
                    with conn.transaction():
                        conn.execute(migration.text)
                        conn.execute(
                            "INSERT INTO supabase_migrations.schema_migrations "
                            "(version, statements, name) VALUES (%s, %s, %s)",
                            (migration.version, [migration.text], migration.name),
                        )
                except psycopg.Error as exc:
                    raise MigrationError(f"{migration.path.name} failed: {exc}") from exc
                applied_now.append(migration)
                if on_applied is not None:
                    on_applied(migration)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_ADVISORY_LOCK_KEY,))
    return applied_now
