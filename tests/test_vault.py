"""The vault: AES-256-GCM bound to a context, a key ring for rotation, and the key's home
(RUNLOOM_SECRETS_KEY, else a 0600 file in the data directory)."""

from __future__ import annotations

import base64
import hashlib
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from runloom.errors import ConfigurationError
from runloom.settings import Settings
from runloom.vault import KEY_FILE, Vault, VaultError, generate_key, parse_keys, write_key_file

CONTEXT = "secret:0e4a8e54-6f0c-4a55-9d0e-4a5c1f0d2b11:API_TOKEN"


def _key() -> bytes:
    return base64.urlsafe_b64decode(generate_key())


def _settings(data_dir: Path, key: str | None = None) -> Settings:
    return Settings(
        _env_file=None,
        runloom_data_dir=data_dir,
        runloom_secrets_key=SecretStr(key) if key is not None else None,
    )


def test_round_trip_and_every_ciphertext_differs() -> None:
    vault = Vault([_key()])
    first = vault.encrypt("hunter2 ✓", context=CONTEXT)
    second = vault.encrypt("hunter2 ✓", context=CONTEXT)
    assert first != second  # a fresh nonce each time
    assert b"hunter2" not in first
    assert vault.decrypt(first, context=CONTEXT) == "hunter2 ✓"
    assert vault.decrypt(second, context=CONTEXT) == "hunter2 ✓"


def test_layout_is_version_key_id_nonce_ciphertext() -> None:
    key = _key()
    blob = Vault([key]).encrypt("x", context=CONTEXT)
    assert blob[0] == 1
    assert blob[1:9] == hashlib.sha256(key).digest()[:8]
    assert len(blob) == 1 + 8 + 12 + len("x") + 16


def test_another_context_does_not_decrypt() -> None:
    vault = Vault([_key()])
    blob = vault.encrypt("hunter2", context=CONTEXT)
    with pytest.raises(VaultError) as caught:
        vault.decrypt(blob, context=CONTEXT.replace("API_TOKEN", "OTHER"))
    assert str(caught.value) == (
        f"the value for {CONTEXT.replace('API_TOKEN', 'OTHER')} failed authentication: "
        "it was altered, or it belongs to another place"
    )
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize("position", [0, 1, 9, 21, -1])
def test_tampering_anywhere_is_detected(position: int) -> None:
    vault = Vault([_key(), _key()])
    blob = bytearray(vault.encrypt("hunter2", context=CONTEXT))
    blob[position] ^= 0x01
    with pytest.raises(VaultError) as caught:
        vault.decrypt(bytes(blob), context=CONTEXT)
    assert "hunter2" not in str(caught.value)


def test_truncated_or_foreign_blobs_are_malformed() -> None:
    vault = Vault([_key()])
    for blob in (b"", b"\x01" * 20, b"\x02" + vault.encrypt("x", context=CONTEXT)[1:]):
        with pytest.raises(VaultError, match="malformed"):
            vault.decrypt(blob, context=CONTEXT)


def test_ring_decrypts_under_old_keys_and_encrypts_under_the_first() -> None:
    old, new = _key(), _key()
    before = Vault([old]).encrypt("hunter2", context=CONTEXT)
    ring = Vault([new, old])
    assert ring.decrypt(before, context=CONTEXT) == "hunter2"
    assert ring.needs_rotation(before)
    after = ring.encrypt("hunter2", context=CONTEXT)
    assert not ring.needs_rotation(after)
    assert Vault([new]).decrypt(after, context=CONTEXT) == "hunter2"
    assert ring.key_id == hashlib.sha256(new).digest()[:8].hex()


def test_unknown_key_id_names_the_key_not_the_value() -> None:
    old = _key()
    blob = Vault([old]).encrypt("hunter2", context=CONTEXT)
    with pytest.raises(VaultError) as caught:
        Vault([_key()]).decrypt(blob, context=CONTEXT)
    kid = hashlib.sha256(old).digest()[:8].hex()
    assert str(caught.value) == (
        f"the value for {CONTEXT} was encrypted under a key that is not configured "
        f"(key id {kid}); put that key after the current one in RUNLOOM_SECRETS_KEY "
        "(or the data directory's secrets.key) to read it"
    )


def test_keys_must_be_32_bytes() -> None:
    with pytest.raises(ConfigurationError):
        Vault([])
    with pytest.raises(ConfigurationError):
        Vault([b"short"])


def test_key_file_is_created_0600_and_reused(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "data")
    blob = Vault.from_settings(settings).encrypt("hunter2", context=CONTEXT)
    path = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert Vault.from_settings(settings).decrypt(blob, context=CONTEXT) == "hunter2"
    assert path.read_text() == text


def test_a_key_file_others_may_read_is_refused(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    Vault.from_settings(settings)
    (tmp_path / KEY_FILE).chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        Vault.from_settings(settings)


def test_configured_ring_wins_over_the_file(tmp_path: Path) -> None:
    first, second = generate_key(), generate_key()
    vault = Vault.from_settings(_settings(tmp_path, f"{first}, {second}"))
    assert not (tmp_path / KEY_FILE).exists()
    blob = Vault([base64.urlsafe_b64decode(second)]).encrypt("x", context=CONTEXT)
    assert vault.decrypt(blob, context=CONTEXT) == "x"
    assert vault.needs_rotation(blob)
    # Unpadded keys (as `secrets.token_urlsafe(32)` writes them) are keys too.
    assert Vault.from_settings(_settings(tmp_path, first.rstrip("=")))


@pytest.mark.parametrize(
    "configured",
    ["", "not-a-key", generate_key()[:-2], generate_key() + ",", "A" * 43 + "B"],
)
def test_malformed_configured_key_names_the_setting(tmp_path: Path, configured: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Vault.from_settings(_settings(tmp_path, configured))
    assert "RUNLOOM_SECRETS_KEY" in str(caught.value)
    if configured:
        assert configured not in str(caught.value)


def test_key_file_is_replaced_atomically(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE
    keys = [generate_key(), generate_key()]
    write_key_file(path, keys)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == ",".join(keys)
    assert parse_keys(path.read_text(), source=str(path))[0] == base64.urlsafe_b64decode(keys[0])
    write_key_file(path, keys[:1])
    assert path.read_text().strip() == keys[0]
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE]
    with pytest.raises(ConfigurationError):
        write_key_file(path, ["nope"])
    assert path.read_text().strip() == keys[0]
