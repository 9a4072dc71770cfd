"""`runloom secrets`: the key project secrets are encrypted under (generate, rotate).

Rotation re-encrypts every stored ciphertext in one transaction, so a failure (a value
no configured key can read) changes nothing. With the key kept in the data directory the
command does the whole rotation; with RUNLOOM_SECRETS_KEY the operator changes the
variable around it, because runloom cannot edit another process's environment.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import psycopg
import typer
from rich.console import Console
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from runloom.db.pool import create_pool
from runloom.db.session import service_session
from runloom.errors import ConfigurationError
from runloom.settings import Settings, get_settings
from runloom.stack.local_secrets import load_or_create_secret
from runloom.stack.postgres import EmbeddedPostgres
from runloom.store import secrets
from runloom.vault import (
    KEY_SETTING,
    Vault,
    VaultError,
    generate_key,
    key_file_path,
    parse_keys,
    write_key_file,
)

console = Console()
err = Console(stderr=True)

secrets_app = typer.Typer(help="The encryption key of project secrets.", no_args_is_help=True)

ENV_PROCEDURE = f"""To replace the key in {KEY_SETTING}:
  1. `runloom secrets generate-key` prints a new key.
  2. Set {KEY_SETTING}=<new key>,<old key> for every runloom process and restart them:
     the new key encrypts from then on, the old one still decrypts.
  3. Run `runloom secrets rotate-key`: every value is re-encrypted under the new key.
  4. Set {KEY_SETTING}=<new key> and restart the processes again."""

RESTART_NOTE = (
    "runloom processes that were running keep the key they started with: restart them "
    "(`runloom up`, `runloom api`, `runloom manager`) now."
)


def _settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:
        err.print(f"[red]configuration error:[/] {exc}")
        raise typer.Exit(2) from exc


@contextmanager
def _database(settings: Settings, explicit: str | None) -> Iterator[str]:
    """The database to rotate in: the given or configured URL, else the embedded Postgres
    of the data directory, started for the command (so `runloom up` must be stopped)."""
    url = explicit or settings.database_url
    if url:
        # Reached before anything changes (the key file included), and fast: the pool
        # would retry for half a minute.
        with psycopg.connect(url, connect_timeout=10):
            pass
        yield url
        return
    data_dir = settings.runloom_data_dir.resolve() / "postgres"
    if not data_dir.is_dir():
        raise ConfigurationError(
            f"no database: DATABASE_URL is unset and there is no embedded Postgres in "
            f"{data_dir}; run this where `runloom up` runs, or set DATABASE_URL"
        )
    postgres = EmbeddedPostgres(data_dir, settings.runloom_pg_port)
    console.print(f"database: starting the embedded Postgres in {data_dir}")
    try:
        postgres.start()
    except ConfigurationError as exc:
        raise ConfigurationError(f"{exc} (stop `runloom up` before rotating the key)") from exc
    try:
        yield postgres.url
    finally:
        postgres.stop()


async def _reencrypt(database_url: str, vault: Vault) -> int:
    pool = await create_pool(database_url, max_size=1, name="runloom-rotate-key")
    try:
        with Progress(
            TextColumn("re-encrypting"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("values", total=None)
            async with service_session(pool) as conn:
                return await secrets.reencrypt_all(
                    conn,
                    vault=vault,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
    finally:
        await pool.close()


def _rotate_key_file(settings: Settings, database_url: str) -> None:
    """New key first in the file, re-encrypt, then drop the old key; safe to run again
    after an interruption, which leaves the ring "new,old" and resumes with it."""
    path = key_file_path(settings)
    ring = [entry.strip() for entry in load_or_create_secret(path).split(",")]
    parse_keys(",".join(ring), source=str(path))
    if len(ring) == 1:
        ring = [generate_key(), *ring]
        write_key_file(path, ring)
        console.print(f"[green]✓[/] new key written first in {path}, the old one kept after it")
    else:
        console.print(
            f"{path} holds {len(ring)} keys (an interrupted rotation): finishing it with the "
            "first one"
        )
    vault = Vault(parse_keys(",".join(ring), source=str(path)))
    rewritten = asyncio.run(_reencrypt(database_url, vault))
    write_key_file(path, ring[:1])
    console.print(
        Panel(
            f"{rewritten} value(s) re-encrypted under key {vault.key_id}; "
            f"the old key was removed from {path}.\n{RESTART_NOTE}",
            title="[green]key rotated[/]",
            expand=False,
        )
    )


def _reencrypt_under_configured(configured: str, database_url: str) -> None:
    keys = parse_keys(configured, source=KEY_SETTING)
    vault = Vault(keys)
    rewritten = asyncio.run(_reencrypt(database_url, vault))
    summary = (
        f"{rewritten} value(s) re-encrypted under key {vault.key_id}, the first of {KEY_SETTING}."
    )
    if len(keys) > 1:
        summary += (
            f"\nEvery value is now under the first key: remove the other {len(keys) - 1} "
            f"key(s) from {KEY_SETTING}, then restart runloom's processes."
        )
    console.print(Panel(summary, title="[green]re-encrypted[/]", expand=False))
    console.print(ENV_PROCEDURE)


@secrets_app.command("rotate-key")
def rotate_key(
    database_url: Annotated[
        str | None, typer.Option(help="Postgres URL; defaults to DATABASE_URL")
    ] = None,
) -> None:
    """Re-encrypt every project secret under a new key, in one transaction.

    Without RUNLOOM_SECRETS_KEY, a new key replaces the one kept in the data directory.

    With RUNLOOM_SECRETS_KEY, everything is re-encrypted under its first key:
    put the new key first and the old one after it, run this, then remove the old one.

    Restart runloom's processes afterwards: they keep the key they started with.
    """
    settings = _settings()
    try:
        with _database(settings, database_url) as url:
            configured = settings.runloom_secrets_key
            if configured is None:
                _rotate_key_file(settings, url)
            else:
                _reencrypt_under_configured(configured.get_secret_value(), url)
    except psycopg.errors.UndefinedTable as exc:
        err.print("[red]error:[/] the database has no secrets table yet; run `runloom migrate`")
        raise typer.Exit(1) from exc
    except (ConfigurationError, VaultError, psycopg.OperationalError) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc


@secrets_app.command("generate-key")
def generate_key_command() -> None:
    """Print a new random key for RUNLOOM_SECRETS_KEY."""
    typer.echo(generate_key())


def register(app: typer.Typer) -> None:
    app.add_typer(secrets_app, name="secrets")
