"""The embedded Postgres asks every client for the generated superuser password."""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from runloom.errors import ConfigurationError
from runloom.stack.ports import free_port
from runloom.stack.postgres import (
    EmbeddedPostgres,
    _bin_dir,
    _ensure_system_user,
    _make_traversable,
    hba_trusts,
    hba_with_password_auth,
)

_AS_ROOT = os.geteuid() == 0
_PG_USER = "embedded_postgres"


@pytest.fixture(autouse=True)
def _no_client_password_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    # libpq would otherwise try these when the URL carries no password.
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", os.devnull)


def _connect(port: int, password: str | None) -> psycopg.Connection[tuple[Any, ...]]:
    conninfo = make_conninfo(
        host="127.0.0.1", port=port, user="postgres", dbname="postgres", connect_timeout=5
    )
    if password is not None:
        conninfo = make_conninfo(conninfo, password=password)
    return psycopg.connect(conninfo)


def _assert_refused(port: int, password: str | None) -> None:
    with pytest.raises(psycopg.OperationalError) as refused:
        _connect(port, password).close()
    message = str(refused.value)
    assert "password authentication failed" in message or "no password supplied" in message


def _trust_initialised(data_dir: Path) -> None:
    """A data directory as runloom before password authentication created it."""
    data_dir.mkdir(parents=True)
    data_dir.chmod(0o700)
    user = None
    if _AS_ROOT:
        _ensure_system_user(_PG_USER)
        _make_traversable(data_dir)
        shutil.chown(data_dir, _PG_USER, _PG_USER)
        user = _PG_USER
    subprocess.run(
        [
            str(_bin_dir() / "initdb"),
            "-D",
            str(data_dir),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-instructions",
        ],
        check=True,
        user=user,
        stdout=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    postgres = EmbeddedPostgres(tmp_path_factory.mktemp("pgauth") / "postgres", free_port())
    postgres.start()
    try:
        yield postgres
    finally:
        postgres.stop()


def test_the_url_carries_the_password_and_connects(server: EmbeddedPostgres) -> None:
    url = urlparse(server.url)
    assert url.username == "postgres" and url.hostname == "127.0.0.1"
    assert url.password is not None and unquote(url.password) == server.password()
    assert len(server.password()) >= 32
    with psycopg.connect(server.url) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("runloom",)


def test_connections_without_the_password_are_refused(server: EmbeddedPostgres) -> None:
    _assert_refused(server.port, None)
    _assert_refused(server.port, "")
    _assert_refused(server.port, "wrong-" + server.password())
    with _connect(server.port, server.password()) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_every_hba_record_asks_for_a_password(server: EmbeddedPostgres) -> None:
    hba = (server.data_dir / "pg_hba.conf").read_text()
    assert not hba_trusts(hba)
    assert "scram-sha-256" in hba


def test_the_password_file_is_private_and_beside_the_data_directory(
    server: EmbeddedPostgres,
) -> None:
    path = server.password_file
    assert path == server.data_dir.parent / "postgres.password"
    info = path.stat()
    assert stat.S_IMODE(info.st_mode) == 0o600
    # As root it belongs to the postgres system user: root-run workers that dropped
    # their capabilities cannot read it.
    expected_owner = pwd.getpwnam(_PG_USER).pw_uid if _AS_ROOT else os.geteuid()
    assert info.st_uid == expected_owner
    assert path.read_text().strip() == server.password()


def test_a_new_instance_on_the_same_directory_reads_the_password(
    server: EmbeddedPostgres,
) -> None:
    again = EmbeddedPostgres(server.data_dir, server.port)
    assert again.url == server.url
    with psycopg.connect(again.url_of("postgres")) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_the_url_before_any_start_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        _ = EmbeddedPostgres(tmp_path / "postgres", free_port()).url


def test_a_trust_initialised_directory_is_upgraded_on_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "old" / "postgres"
    _trust_initialised(data_dir)
    assert hba_trusts((data_dir / "pg_hba.conf").read_text())

    postgres = EmbeddedPostgres(data_dir, free_port())
    postgres.start()
    try:
        _assert_refused(postgres.port, None)
        _assert_refused(postgres.port, "wrong")
        with psycopg.connect(postgres.url) as conn:
            verifier = conn.execute(
                "SELECT rolpassword FROM pg_authid WHERE rolname = 'postgres'"
            ).fetchone()
        assert verifier is not None and str(verifier[0]).startswith("SCRAM-SHA-256$")
        assert not hba_trusts((data_dir / "pg_hba.conf").read_text())
        assert stat.S_IMODE(postgres.password_file.stat().st_mode) == 0o600
    finally:
        postgres.stop()

    # Upgraded once: the next start goes straight to a password connection.
    again = EmbeddedPostgres(data_dir, free_port())
    again.start()
    try:
        assert again.password() == postgres.password()
        _assert_refused(again.port, None)
    finally:
        again.stop()


def test_a_lost_password_file_is_replaced_with_a_new_password(tmp_path: Path) -> None:
    postgres = EmbeddedPostgres(tmp_path / "postgres", free_port())
    postgres.start()
    postgres.stop()
    old = postgres.password()
    postgres.password_file.unlink()

    again = EmbeddedPostgres(tmp_path / "postgres", free_port())
    again.start()
    try:
        assert again.password() != old
        _assert_refused(again.port, old)
        with psycopg.connect(again.url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        again.stop()


def test_a_password_file_others_can_read_is_refused(tmp_path: Path) -> None:
    postgres = EmbeddedPostgres(tmp_path / "postgres", free_port())
    postgres.password_file.write_text("x" * 40 + "\n")
    postgres.password_file.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        postgres.start()
    assert not (tmp_path / "postgres" / "PG_VERSION").exists()


def test_hba_records_are_switched_from_trust_and_the_rest_is_kept() -> None:
    original = (
        "# a comment that mentions trust\n"
        "local   all   all   trust\n"
        "host    all   all   127.0.0.1/32   trust   # loopback\n"
        "host    all   all   10.0.0.0   255.0.0.0   trust\n"
        "hostssl all   all   ::1/128   md5\n"
        "host    all   all   samehost   trust\n"
    )
    assert hba_trusts(original)
    upgraded = hba_with_password_auth(original)
    assert upgraded.splitlines() == [
        "# a comment that mentions trust",
        "local    all    all    scram-sha-256",
        "host    all    all    127.0.0.1/32    scram-sha-256  # loopback",
        "host    all    all    10.0.0.0    255.0.0.0    scram-sha-256",
        "hostssl all   all   ::1/128   md5",
        "host    all    all    samehost    scram-sha-256",
    ]
    assert not hba_trusts(upgraded)
