"""Project secrets against the real, migrated Postgres: encrypted at rest, RLS like every
project table (project-scoped API keys included), changes announced, and rotation."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from runloom.auth import key_claims
from runloom.db.migrate import migrate
from runloom.db.pool import Pool, create_pool
from runloom.db.session import service_session, user_session
from runloom.errors import InvalidRequestError, NotFoundError
from runloom.naming import SECRETS_CHANGED_CHANNEL
from runloom.store import secrets
from runloom.vault import Vault, VaultError, generate_key
from tests.factory import Project, make_project

VALUE = "sk-live-0123456789abcdef"


def _vault(*keys: str) -> Vault:
    return Vault([base64.urlsafe_b64decode(key) for key in keys])


VAULT = _vault(generate_key())


def _claims(project: Project, *, only: uuid.UUID | None = None) -> dict[str, Any]:
    if only is not None:
        return key_claims(user_id=project.user_id, email=None, project_id=only)
    return {"sub": str(project.user_id), "role": "authenticated", "aud": "authenticated"}


async def _put(pool: Pool, project: Project, name: str, value: str, vault: Vault = VAULT) -> Any:
    async with user_session(pool, _claims(project)) as conn:
        return await secrets.put_secret(
            conn, project_id=project.id, name=name, value=value, vault=vault
        )


async def _ciphertext(pool: Pool, project: Project, name: str) -> bytes:
    async with service_session(pool) as conn:
        cur = await conn.execute(
            "SELECT ciphertext FROM public.project_secrets WHERE project_id = %s AND name = %s",
            (project.id, name),
        )
        row = await cur.fetchone()
    assert row is not None
    return bytes(row["ciphertext"])


async def test_put_list_replace_delete(pool: Pool) -> None:
    project = await make_project(pool)
    first = await _put(pool, project, "TOKEN", VALUE)
    await _put(pool, project, "A_FIRST", "a")
    await asyncio.sleep(0.01)
    replaced = await _put(pool, project, "TOKEN", "rotated")
    assert replaced.created_at == first.created_at
    assert replaced.updated_at > first.updated_at
    async with user_session(pool, _claims(project)) as conn:
        listed = await secrets.list_secrets(conn, project_id=project.id)
        assert [s.name for s in listed] == ["A_FIRST", "TOKEN"]
        assert set(listed[0].model_dump()) == {"name", "created_at", "updated_at"}
        assert await secrets.secret_names(conn, project_id=project.id) == {"A_FIRST", "TOKEN"}
    async with service_session(pool) as conn:
        values = await secrets.read_values(conn, project_id=project.id, vault=VAULT)
    assert values == {"A_FIRST": "a", "TOKEN": "rotated"}
    async with user_session(pool, _claims(project)) as conn:
        await secrets.delete_secret(conn, project_id=project.id, name="TOKEN")
        with pytest.raises(NotFoundError, match="has no secret TOKEN"):
            await secrets.delete_secret(conn, project_id=project.id, name="TOKEN")
        assert await secrets.secret_names(conn, project_id=project.id) == {"A_FIRST"}


async def test_the_table_holds_ciphertext_owners_cannot_read_back(pool: Pool) -> None:
    project = await make_project(pool)
    await _put(pool, project, "TOKEN", VALUE)
    stored = await _ciphertext(pool, project, "TOKEN")
    assert VALUE.encode() not in stored
    assert VAULT.decrypt(stored, context=f"secret:{project.id}:TOKEN") == VALUE
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        async with user_session(pool, _claims(project)) as conn:
            await conn.execute("SELECT ciphertext FROM public.project_secrets")


async def test_another_user_cannot_list_set_or_delete(pool: Pool) -> None:
    owner, stranger = await make_project(pool), await make_project(pool)
    await _put(pool, owner, "TOKEN", VALUE)
    async with user_session(pool, _claims(stranger)) as conn:
        with pytest.raises(NotFoundError, match=f"project {owner.id} not found"):
            await secrets.list_secrets(conn, project_id=owner.id)
        with pytest.raises(NotFoundError):
            await secrets.put_secret(
                conn, project_id=owner.id, name="TOKEN", value="mine now", vault=VAULT
            )
        with pytest.raises(NotFoundError):
            await secrets.delete_secret(conn, project_id=owner.id, name="TOKEN")
        # Past the store functions, RLS itself hides and protects the rows.
        cur = await conn.execute("SELECT name FROM public.project_secrets")
        assert await cur.fetchall() == []
        cur = await conn.execute("DELETE FROM public.project_secrets RETURNING id")
        assert await cur.fetchall() == []
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        async with user_session(pool, _claims(stranger)) as conn:
            await conn.execute(
                "INSERT INTO public.project_secrets (project_id, name, ciphertext) "
                "VALUES (%s, 'X', '\\x00')",
                (owner.id,),
            )
    async with service_session(pool) as conn:
        assert await secrets.read_values(conn, project_id=owner.id, vault=VAULT) == {"TOKEN": VALUE}


async def test_a_key_limited_to_another_project_sees_nothing(pool: Pool) -> None:
    project = await make_project(pool)
    other = await make_project(pool, user_id=project.user_id)
    await _put(pool, project, "TOKEN", VALUE)
    async with user_session(pool, _claims(project, only=other.id)) as conn:
        with pytest.raises(NotFoundError):
            await secrets.list_secrets(conn, project_id=project.id)
        with pytest.raises(NotFoundError):
            await secrets.delete_secret(conn, project_id=project.id, name="TOKEN")
        assert await secrets.list_secrets(conn, project_id=other.id) == []
    async with user_session(pool, _claims(project, only=project.id)) as conn:
        assert await secrets.secret_names(conn, project_id=project.id) == {"TOKEN"}


async def test_a_ciphertext_moved_to_another_row_does_not_decrypt(pool: Pool) -> None:
    project = await make_project(pool)
    await _put(pool, project, "TOKEN", VALUE)
    await _put(pool, project, "DECOY", "decoy")
    stolen = await _ciphertext(pool, project, "TOKEN")
    async with service_session(pool) as conn:
        await conn.execute(
            "UPDATE public.project_secrets SET ciphertext = %s WHERE project_id = %s "
            "AND name = 'DECOY'",
            (stolen, project.id),
        )
    with pytest.raises(VaultError, match=f"secret:{project.id}:DECOY failed authentication"):
        async with service_session(pool) as conn:
            await secrets.read_values(conn, project_id=project.id, vault=VAULT)


@pytest.mark.parametrize("name", ["lower", "1ST", "HAS-DASH", "", "A" * 65, "ÄB"])
async def test_bad_names_are_refused_with_the_pattern(pool: Pool, name: str) -> None:
    project = await make_project(pool)
    with pytest.raises(InvalidRequestError, match=r"\[A-Z_\]\[A-Z0-9_\]\{0,63\}"):
        await _put(pool, project, name, VALUE)
    # The database refuses them too, whoever writes.
    with pytest.raises(psycopg.errors.CheckViolation):
        async with service_session(pool) as conn:
            await conn.execute(
                "INSERT INTO public.project_secrets (project_id, name, ciphertext) "
                "VALUES (%s, %s, '\\x00')",
                (project.id, name),
            )


@pytest.mark.parametrize("value", ["", "x" * (64 * 1024 + 1), "é" * (32 * 1024 + 1), "\ud800"])
async def test_bad_values_are_refused_without_being_echoed(pool: Pool, value: str) -> None:
    project = await make_project(pool)
    with pytest.raises(InvalidRequestError) as caught:
        await _put(pool, project, "TOKEN", value)
    assert not value or value[:16] not in str(caught.value)


async def test_largest_value_is_accepted(pool: Pool) -> None:
    project = await make_project(pool)
    await _put(pool, project, "BIG", "x" * (64 * 1024))
    async with service_session(pool) as conn:
        values = await secrets.read_values(conn, project_id=project.id, vault=VAULT)
    assert values == {"BIG": "x" * (64 * 1024)}


async def test_every_change_is_announced(pool: Pool, database_url: str) -> None:
    project = await make_project(pool)
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as listener:
        await listener.execute(f"LISTEN {SECRETS_CHANGED_CHANNEL}")

        async def announced() -> None:
            async for note in listener.notifies():
                if note.payload == str(project.id):
                    return

        await _put(pool, project, "TOKEN", VALUE)
        await asyncio.wait_for(announced(), timeout=5)
        await _put(pool, project, "TOKEN", "again")
        await asyncio.wait_for(announced(), timeout=5)
        async with user_session(pool, _claims(project)) as conn:
            await secrets.delete_secret(conn, project_id=project.id, name="TOKEN")
        await asyncio.wait_for(announced(), timeout=5)


@pytest.fixture
async def own_pool(empty_database_url: str) -> AsyncIterator[Pool]:
    """A database of this test's own: rotation touches every row of the table."""
    migrate(empty_database_url)
    pool = await create_pool(empty_database_url, max_size=4, name="rotation")
    try:
        yield pool
    finally:
        await pool.close()


async def test_rotation_reencrypts_everything_and_the_old_key_goes(own_pool: Pool) -> None:
    old_key, new_key = generate_key(), generate_key()
    old = _vault(old_key)
    projects = [await make_project(own_pool) for _ in range(2)]
    for index, project in enumerate(projects):
        for name in ("A", "B", "C"):
            await _put(own_pool, project, name, f"{name}-{index}", vault=old)
    before = await _ciphertext(own_pool, projects[0], "A")
    ring = _vault(new_key, old_key)
    seen: list[tuple[int, int]] = []
    async with service_session(own_pool) as conn:
        rotated = await secrets.reencrypt_all(
            conn, vault=ring, progress=lambda done, total: seen.append((done, total))
        )
    assert rotated == 6
    assert seen[-1] == (6, 6)
    assert await _ciphertext(own_pool, projects[0], "A") != before
    new_only = _vault(new_key)
    for index, project in enumerate(projects):
        async with service_session(own_pool) as conn:
            values = await secrets.read_values(conn, project_id=project.id, vault=new_only)
        assert values == {name: f"{name}-{index}" for name in ("A", "B", "C")}
        with pytest.raises(VaultError, match="not configured"):
            async with service_session(own_pool) as conn:
                await secrets.read_values(conn, project_id=project.id, vault=old)
    async with service_session(own_pool) as conn:
        assert await secrets.reencrypt_all(conn, vault=ring) == 0


async def test_rotation_with_an_unreadable_value_changes_nothing(own_pool: Pool) -> None:
    old_key = generate_key()
    project = await make_project(own_pool)
    await _put(own_pool, project, "A", "a", vault=_vault(old_key))
    await _put(own_pool, project, "LOST", "under a key nobody has", vault=_vault(generate_key()))
    before = await _ciphertext(own_pool, project, "A")
    with pytest.raises(VaultError, match="not configured"):
        async with service_session(own_pool) as conn:
            await secrets.reencrypt_all(conn, vault=_vault(generate_key(), old_key))
    assert await _ciphertext(own_pool, project, "A") == before
