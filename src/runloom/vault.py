"""Encryption at rest for what runloom must be able to read back (project secrets, tokens).

AES-256-GCM under a ring of keys: the first key encrypts, every key decrypts, so a key is
replaced by putting the new one first, re-encrypting (`runloom secrets rotate-key`) and
then dropping the old one. Each stored value is one bytes value:

    version (1 byte) | key id (8 bytes: sha256(key)[:8]) | nonce (12 bytes) | ciphertext+tag

The key id lets decryption pick its key without trying each. The header and the caller's
`context` (e.g. ``secret:<project id>:<name>``) are the associated data, so a ciphertext
copied to another row, or a header edited to point at another key, fails to decrypt.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import secrets
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from runloom.errors import ConfigurationError, RunloomError
from runloom.settings import Settings
from runloom.stack.local_secrets import load_or_create_secret

KEY_FILE = "secrets.key"
KEY_SETTING = "RUNLOOM_SECRETS_KEY"
_VERSION = 1
_KEY_BYTES = 32
_KEY_ID_BYTES = 8
_NONCE_BYTES = 12  # GCM's native nonce size; random nonces are safe far beyond our volumes
_HEADER_BYTES = 1 + _KEY_ID_BYTES + _NONCE_BYTES
_TAG_BYTES = 16
# 32 bytes in url-safe base64: 43 characters, with or without the one `=` of padding.
_KEY_TEXT = re.compile(r"^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]=?$")
_GENERATE_HINT = "generate one with `runloom secrets generate-key`"


class VaultError(RunloomError):
    """A stored value cannot be decrypted: another key, another place, or altered.
    Messages never carry the value, encrypted or not."""


def generate_key() -> str:
    """A new random key, as RUNLOOM_SECRETS_KEY and the key file hold it."""
    return base64.urlsafe_b64encode(secrets.token_bytes(_KEY_BYTES)).decode("ascii")


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:_KEY_ID_BYTES]


def parse_keys(text: str, *, source: str) -> list[bytes]:
    """The keys of a comma-separated ring, first (encrypting) key first.

    `source` names where the text came from (the setting or the file) in errors, which
    say which entry is wrong but never echo it: a near-miss key is still secret.
    """
    entries = [entry.strip() for entry in text.split(",")]
    if not any(entries):
        raise ConfigurationError(
            f"{source} is empty; set it to one or more comma-separated keys "
            f"({_GENERATE_HINT}), or unset it to use a key kept in the data directory"
        )
    keys = []
    for position, entry in enumerate(entries, start=1):
        if not _KEY_TEXT.match(entry):
            raise ConfigurationError(
                f"{source}: key {position} of {len(entries)} is not a key; each key is 32 "
                f"random bytes in url-safe base64 (43 characters, or 44 ending in '='); "
                f"{_GENERATE_HINT}"
            )
        keys.append(base64.urlsafe_b64decode(entry.rstrip("=") + "="))
    return keys


def key_file_path(settings: Settings) -> Path:
    return settings.runloom_data_dir / KEY_FILE


def write_key_file(path: Path, keys: Sequence[str]) -> None:
    """Replace the key file with `keys` (first encrypts) atomically, mode 0600: a crash
    leaves either the old ring or the new one, never a partial file."""
    parse_keys(",".join(keys), source=str(path))
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(",".join(keys) + "\n")
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
    # The rename is durable only once the directory entry is.
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):
            os.fsync(directory)
    finally:
        os.close(directory)


class Vault:
    """Encrypts under the first key of a ring and decrypts under any of them."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ConfigurationError(f"a vault needs at least one key; {_GENERATE_HINT}")
        self._ciphers: dict[bytes, AESGCM] = {}
        for key in keys:
            if len(key) != _KEY_BYTES:
                raise ConfigurationError(f"a vault key must be {_KEY_BYTES} bytes")
            # setdefault: the same key listed twice is one key, still in first place.
            self._ciphers.setdefault(key_id(key), AESGCM(key))
        self._current = key_id(keys[0])

    @classmethod
    def from_settings(cls, settings: Settings) -> Vault:
        """The ring in RUNLOOM_SECRETS_KEY, else the key kept in the data directory
        (generated there, mode 0600, on first use)."""
        configured = settings.runloom_secrets_key
        if configured is not None:
            return cls(parse_keys(configured.get_secret_value(), source=KEY_SETTING))
        path = key_file_path(settings)
        return cls(parse_keys(load_or_create_secret(path, nbytes=_KEY_BYTES), source=str(path)))

    @property
    def key_id(self) -> str:
        """The current key's id (hex), safe to show: it identifies a key, reveals none."""
        return self._current.hex()

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        header = bytes([_VERSION]) + self._current + nonce
        sealed = self._ciphers[self._current].encrypt(
            nonce, plaintext.encode("utf-8"), _associated(header, context)
        )
        return header + sealed

    def decrypt(self, blob: bytes, *, context: str) -> str:
        header, kid = self._header(blob)
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise VaultError(
                f"the value for {context} was encrypted under a key that is not configured "
                f"(key id {kid.hex()}); put that key after the current one in {KEY_SETTING} "
                "(or the data directory's secrets.key) to read it"
            )
        try:
            plain = cipher.decrypt(
                header[1 + _KEY_ID_BYTES :],
                bytes(blob[_HEADER_BYTES:]),
                _associated(header, context),
            )
        except InvalidTag:
            raise VaultError(
                f"the value for {context} failed authentication: it was altered, or it "
                "belongs to another place"
            ) from None
        return plain.decode("utf-8")

    def needs_rotation(self, blob: bytes) -> bool:
        """Whether `blob` is not (yet) encrypted under the current key in this format."""
        return self._header(blob)[1] != self._current

    @staticmethod
    def _header(blob: bytes) -> tuple[bytes, bytes]:
        if len(blob) < _HEADER_BYTES + _TAG_BYTES or blob[0] != _VERSION:
            raise VaultError(
                "the encrypted value is malformed: too short or of an unknown format version"
            )
        header = bytes(blob[:_HEADER_BYTES])
        return header, header[1 : 1 + _KEY_ID_BYTES]


def _associated(header: bytes, context: str) -> bytes:
    return header + context.encode("utf-8")
