"""Project secrets: values encrypted by the vault before they reach the database.

Users (through RLS) set, list and delete their projects' secrets and never read a value
or ciphertext back; only service sessions decrypt (the manager handing a project's worker
its secrets, and key rotation). Each ciphertext is bound to its project and name, so a
ciphertext copied to another row does not decrypt.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from psycopg import AsyncConnection
from psycopg.rows import DictRow

from runloom.errors import InvalidRequestError, NotFoundError
from runloom.models import SecretInfo
from runloom.naming import SECRET_NAME_PATTERN
from runloom.store.queries import sql
from runloom.vault import Vault

MAX_VALUE_BYTES = 64 * 1024
_NAME = re.compile(SECRET_NAME_PATTERN)
NAME_RULE = (
    "a secret's name is 1 to 64 characters of A-Z, 0-9 and _, not starting with a digit "
    f"(pattern {SECRET_NAME_PATTERN})"
)

Progress = Callable[[int, int], None]


def secret_context(*, project_id: uuid.UUID, name: str) -> str:
    """What a secret's ciphertext is bound to: its project and its name."""
    return f"secret:{project_id}:{name}"


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise InvalidRequestError(f"{NAME_RULE}; {name[:80]!r} is not")
    return name


def _check_value(value: str) -> None:
    # Errors give sizes only: a value is never echoed, not even to its sender.
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate, which JSON can carry
        raise InvalidRequestError("a secret's value must be valid Unicode text") from None
    if size == 0:
        raise InvalidRequestError("a secret's value must not be empty")
    if size > MAX_VALUE_BYTES:
        raise InvalidRequestError(
            f"a secret's value is at most {MAX_VALUE_BYTES // 1024} KiB; this one is {size} bytes"
        )


async def _require_project(conn: AsyncConnection[DictRow], project_id: uuid.UUID) -> None:
    cur = await conn.execute(sql("secrets_project_visible"), {"project_id": project_id})
    if await cur.fetchone() is None:
        raise NotFoundError(f"project {project_id} not found")


async def put_secret(
    conn: AsyncConnection[DictRow],
    *,
    project_id: uuid.UUID,
    name: str,
    value: str,
    vault: Vault,
) -> SecretInfo:
    """User session: create or replace one secret of a project the caller owns."""
    check_name(name)
    _check_value(value)
    await _require_project(conn, project_id)
    ciphertext = vault.encrypt(value, context=secret_context(project_id=project_id, name=name))
    cur = await conn.execute(
        sql("secrets_upsert"), {"project_id": project_id, "name": name, "ciphertext": ciphertext}
    )
    row = await cur.fetchone()
    assert row is not None
    return SecretInfo.model_validate(row)


async def list_secrets(
    conn: AsyncConnection[DictRow], *, project_id: uuid.UUID
) -> list[SecretInfo]:
    """User session: the project's secrets by name, never their values."""
    rows = await (await conn.execute(sql("secrets_list"), {"project_id": project_id})).fetchall()
    if not rows:
        # Only an empty answer needs telling "no secrets" from "not your project".
        await _require_project(conn, project_id)
    return [SecretInfo.model_validate(row) for row in rows]


async def secret_names(conn: AsyncConnection[DictRow], *, project_id: uuid.UUID) -> frozenset[str]:
    """The names of the project's secrets (for checking references before a build)."""
    return frozenset(info.name for info in await list_secrets(conn, project_id=project_id))


async def delete_secret(
    conn: AsyncConnection[DictRow], *, project_id: uuid.UUID, name: str
) -> None:
    """User session: remove one secret; NotFoundError when it (or the project) is not there."""
    check_name(name)
    await _require_project(conn, project_id)
    cur = await conn.execute(sql("secrets_delete"), {"project_id": project_id, "name": name})
    if await cur.fetchone() is None:
        raise NotFoundError(f"project {project_id} has no secret {name}")


async def read_values(
    conn: AsyncConnection[DictRow], *, project_id: uuid.UUID, vault: Vault
) -> dict[str, str]:
    """Service session: the project's secrets, decrypted, for its worker.

    A value that does not decrypt raises VaultError (naming the secret, not its value):
    a worker must not run with a secret silently missing.
    """
    cur = await conn.execute(sql("secrets_ciphertexts"), {"project_id": project_id})
    return {
        row["name"]: vault.decrypt(
            row["ciphertext"], context=secret_context(project_id=project_id, name=row["name"])
        )
        for row in await cur.fetchall()
    }


@dataclass(frozen=True, slots=True)
class EncryptedColumn:
    """A column that holds vault ciphertexts: rotation re-encrypts each of these.

    `lock` selects every row (`id`, `ciphertext` and what `context` needs) FOR UPDATE;
    `update` sets `ciphertext` by `id`.
    """

    what: str
    lock: str
    update: str
    context: Callable[[DictRow], str]


# Every vault-encrypted column of the database: add one here when another table stores
# ciphertexts, so that `runloom secrets rotate-key` leaves nothing under an old key.
ENCRYPTED_COLUMNS: tuple[EncryptedColumn, ...] = (
    EncryptedColumn(
        what="project secrets",
        lock="secrets_lock_all",
        update="secrets_set_ciphertext",
        context=lambda row: secret_context(project_id=row["project_id"], name=row["name"]),
    ),
)


async def reencrypt_all(
    conn: AsyncConnection[DictRow], *, vault: Vault, progress: Progress | None = None
) -> int:
    """Service session: put every stored ciphertext under the vault's current key, in the
    caller's transaction; the number rewritten.

    Every value is decrypted, also those already under the current key, so that a value
    no key of the ring can read fails the rotation (and rolls it back) before an old key
    is dropped. `progress(done, total)` is called after each row.
    """
    locked = [
        (column, row)
        for column in ENCRYPTED_COLUMNS
        for row in await (await conn.execute(sql(column.lock))).fetchall()
    ]
    rewritten = 0
    for done, (column, row) in enumerate(locked, start=1):
        context = column.context(row)
        plaintext = vault.decrypt(row["ciphertext"], context=context)
        if vault.needs_rotation(row["ciphertext"]):
            ciphertext = vault.encrypt(plaintext, context=context)
            await conn.execute(sql(column.update), {"id": row["id"], "ciphertext": ciphertext})
            rewritten += 1
        if progress is not None:
            progress(done, len(locked))
    return rewritten
