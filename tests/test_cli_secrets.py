"""`runloom secrets rotate-key`, run as a person runs it, against a database of its own:
with the key kept in the data directory it replaces that key; with RUNLOOM_SECRETS_KEY it
re-encrypts under the first key and says how to finish; nothing changes when a value
cannot be read."""

from __future__ import annotations

import asyncio
import base64
import stat
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from runloom.db.migrate import migrate
from runloom.db.pool import Pool, create_pool
from runloom.db.session import service_session, user_session
from runloom.settings import Settings
from runloom.store import secrets
from runloom.vault import KEY_FILE, Vault, VaultError, generate_key, write_key_file
from tests.factory import Project, make_project
from tests.live import up_env


@pytest.fixture
async def own_database(empty_database_url: str) -> AsyncIterator[tuple[str, Pool]]:
    """Rotation rewrites every row of the table: a database of this test's own."""
    migrate(empty_database_url)
    pool = await create_pool(empty_database_url, max_size=2, name="rotate-cli")
    try:
        yield empty_database_url, pool
    finally:
        await pool.close()


def _settings(data_dir: Path, key: str | None = None) -> Settings:
    return Settings(
        _env_file=None,
        runloom_data_dir=data_dir,
        runloom_secrets_key=SecretStr(key) if key else None,
    )


def _vault(*keys: str) -> Vault:
    return Vault([base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)) for key in keys])


async def _seed(pool: Pool, vault: Vault) -> Project:
    project = await make_project(pool)
    claims = {"sub": str(project.user_id), "role": "authenticated", "aud": "authenticated"}
    async with user_session(pool, claims) as conn:
        for name in ("API_TOKEN", "PASSWORD"):
            await secrets.put_secret(
                conn, project_id=project.id, name=name, value=f"{name}-value", vault=vault
            )
    return project


async def _values(pool: Pool, project: Project, vault: Vault) -> dict[str, str]:
    async with service_session(pool) as conn:
        return await secrets.read_values(conn, project_id=project.id, vault=vault)


async def _rotate(database_url: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "runloom.cli", "secrets", "rotate-key"],
        # Wide enough that Rich wraps no message the assertions read.
        env=up_env(
            DATABASE_URL=database_url, RUNLOOM_DATA_DIR=str(cwd / "data"), COLUMNS="400", **env
        ),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_rotating_the_data_directory_key(
    own_database: tuple[str, Pool], tmp_path: Path
) -> None:
    url, pool = own_database
    key_file = tmp_path / "data" / KEY_FILE
    before = Vault.from_settings(_settings(tmp_path / "data"))
    old_key = key_file.read_text().strip()
    project = await _seed(pool, before)

    done = await _rotate(url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "2 value(s) re-encrypted" in done.stdout
    new_key = key_file.read_text().strip()
    assert "," not in new_key and new_key != old_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert old_key not in done.stdout + done.stderr and new_key not in done.stdout

    after = Vault.from_settings(_settings(tmp_path / "data"))
    assert after.key_id != before.key_id and after.key_id in done.stdout
    assert await _values(pool, project, after) == {
        "API_TOKEN": "API_TOKEN-value",
        "PASSWORD": "PASSWORD-value",
    }
    with pytest.raises(VaultError, match="not configured"):
        await _values(pool, project, before)


async def test_an_interrupted_rotation_is_finished(
    own_database: tuple[str, Pool], tmp_path: Path
) -> None:
    url, pool = own_database
    old_key, new_key = generate_key(), generate_key()
    project = await _seed(pool, _vault(old_key))
    # As left by a run that stopped after writing the ring and before committing.
    write_key_file(tmp_path / "data" / KEY_FILE, [new_key, old_key])

    done = await _rotate(url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "interrupted rotation" in done.stdout
    assert (tmp_path / "data" / KEY_FILE).read_text().strip() == new_key
    assert len(await _values(pool, project, _vault(new_key))) == 2


async def test_rotating_under_the_configured_key(
    own_database: tuple[str, Pool], tmp_path: Path
) -> None:
    url, pool = own_database
    old_key, new_key = generate_key(), generate_key()
    project = await _seed(pool, _vault(old_key))

    done = await _rotate(url, tmp_path, RUNLOOM_SECRETS_KEY=f"{new_key},{old_key}")
    assert done.returncode == 0, done.stderr
    assert "2 value(s) re-encrypted" in done.stdout
    assert "remove the other 1 key(s) from RUNLOOM_SECRETS_KEY" in done.stdout
    assert "RUNLOOM_SECRETS_KEY=<new key>,<old key>" in done.stdout  # the procedure
    assert old_key not in done.stdout and new_key not in done.stdout
    assert not (tmp_path / "data" / KEY_FILE).exists()
    assert len(await _values(pool, project, _vault(new_key))) == 2


async def test_a_value_no_key_reads_fails_the_rotation_and_changes_nothing(
    own_database: tuple[str, Pool], tmp_path: Path
) -> None:
    url, pool = own_database
    old_key = generate_key()
    project = await _seed(pool, _vault(old_key))

    done = await _rotate(url, tmp_path, RUNLOOM_SECRETS_KEY=generate_key())
    assert done.returncode == 1
    assert "not configured" in done.stderr and f"secret:{project.id}:" in done.stderr
    assert len(await _values(pool, project, _vault(old_key))) == 2

    bad = await _rotate(url, tmp_path, RUNLOOM_SECRETS_KEY="not-a-key")
    assert bad.returncode == 1 and "RUNLOOM_SECRETS_KEY" in bad.stderr
