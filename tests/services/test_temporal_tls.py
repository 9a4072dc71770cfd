"""The TEMPORAL_TLS* and TEMPORAL_API_KEY settings, and services.temporal built on them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from temporalio.testing import WorkflowEnvironment

from runloom.errors import ConfigurationError
from runloom.services.temporal import (
    TemporalConnection,
    TemporalUnavailableError,
    connect,
    temporal_access,
)
from runloom.settings import Settings
from tests.tls_proxy import Pki, TlsProxy

_SETTINGS = (
    "TEMPORAL_ADDRESS",
    "TEMPORAL_NAMESPACE",
    "TEMPORAL_TLS",
    "TEMPORAL_TLS_CA",
    "TEMPORAL_TLS_SERVER_NAME",
    "TEMPORAL_TLS_CERT",
    "TEMPORAL_TLS_KEY",
    "TEMPORAL_API_KEY",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _SETTINGS:
        monkeypatch.delenv(name, raising=False)


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str | Path) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, str(value))
    return Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki.create(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def mtls_proxy(temporal_env: WorkflowEnvironment, pki: Pki) -> Iterator[TlsProxy]:
    upstream = temporal_env.client.service_client.config.target_host
    proxy = TlsProxy(upstream, pki, require_client_cert=True).start()
    yield proxy
    proxy.stop()


def test_a_certificate_without_its_key_is_a_settings_error(
    monkeypatch: pytest.MonkeyPatch, pki: Pki
) -> None:
    with pytest.raises(
        ValidationError, match="TEMPORAL_TLS_CERT is set but TEMPORAL_TLS_KEY is not"
    ):
        _settings(monkeypatch, TEMPORAL_TLS_CERT=pki.client_cert)


def test_a_key_without_its_certificate_is_a_settings_error(
    monkeypatch: pytest.MonkeyPatch, pki: Pki
) -> None:
    with pytest.raises(
        ValidationError, match="TEMPORAL_TLS_KEY is set but TEMPORAL_TLS_CERT is not"
    ):
        _settings(monkeypatch, TEMPORAL_TLS_KEY=pki.client_key)


def test_tls_off_with_tls_files_is_a_settings_error(
    monkeypatch: pytest.MonkeyPatch, pki: Pki
) -> None:
    with pytest.raises(ValidationError, match="TEMPORAL_TLS=0 but TEMPORAL_TLS_CA"):
        _settings(monkeypatch, TEMPORAL_TLS="0", TEMPORAL_TLS_CA=pki.ca)


def test_tls_is_off_by_default_and_on_when_anything_tls_is_set(
    monkeypatch: pytest.MonkeyPatch, pki: Pki
) -> None:
    assert not _settings(monkeypatch).temporal_tls_enabled
    assert _settings(monkeypatch, TEMPORAL_TLS_CA=pki.ca).temporal_tls_enabled
    monkeypatch.delenv("TEMPORAL_TLS_CA")
    assert _settings(monkeypatch, TEMPORAL_TLS="1").temporal_tls_enabled
    monkeypatch.setenv("TEMPORAL_TLS", "")
    # An API key means TLS, as Temporal Cloud requires, unless TEMPORAL_TLS=0 says otherwise.
    assert _settings(monkeypatch, TEMPORAL_API_KEY="k").temporal_tls_enabled
    assert not _settings(monkeypatch, TEMPORAL_TLS="0").temporal_tls_enabled


def test_the_access_holds_the_files_contents_and_the_key(
    monkeypatch: pytest.MonkeyPatch, pki: Pki
) -> None:
    settings = _settings(
        monkeypatch,
        TEMPORAL_ADDRESS="temporal.example:7233",
        TEMPORAL_NAMESPACE="ns.acct",
        TEMPORAL_TLS_CA=pki.ca,
        TEMPORAL_TLS_SERVER_NAME="temporal.example",
        TEMPORAL_TLS_CERT=pki.client_cert,
        TEMPORAL_TLS_KEY=pki.client_key,
        TEMPORAL_API_KEY="key-123",
    )
    access = temporal_access(settings)
    assert (access.address, access.namespace, access.tls) == (
        "temporal.example:7233",
        "ns.acct",
        True,
    )
    assert access.server_ca_pem == pki.ca.read_text()
    assert access.client_cert_pem == pki.client_cert.read_text()
    assert access.client_key_pem == pki.client_key.read_text()
    assert (access.server_name, access.api_key) == ("temporal.example", "key-123")
    assert "key-123" not in repr(settings)


def test_a_missing_file_names_its_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, pki: Pki
) -> None:
    missing = tmp_path / "nope.pem"
    settings = _settings(monkeypatch, TEMPORAL_TLS_CERT=missing, TEMPORAL_TLS_KEY=pki.client_key)
    with pytest.raises(ConfigurationError) as caught:
        TemporalConnection(settings)
    assert str(caught.value) == f"TEMPORAL_TLS_CERT={missing}: no such file"


def test_a_file_that_is_not_pem_names_its_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "ca.der").write_bytes(b"0\x82\x01")
    settings = _settings(monkeypatch, TEMPORAL_TLS_CA=tmp_path / "ca.der")
    with pytest.raises(
        ConfigurationError, match=r"^TEMPORAL_TLS_CA=.*ca\.der (cannot be read|is not a PEM file)"
    ):
        temporal_access(settings)


async def test_connect_through_mtls_with_the_settings(
    monkeypatch: pytest.MonkeyPatch, pki: Pki, mtls_proxy: TlsProxy
) -> None:
    settings = _settings(
        monkeypatch,
        TEMPORAL_ADDRESS=mtls_proxy.address,
        TEMPORAL_TLS_CA=pki.ca,
        TEMPORAL_TLS_CERT=pki.client_cert,
        TEMPORAL_TLS_KEY=pki.client_key,
    )
    connection = TemporalConnection(settings)
    assert await connection.check_health(within_s=30)


async def test_a_wrong_ca_is_what_callers_catch_with_the_setting_named(
    monkeypatch: pytest.MonkeyPatch, pki: Pki, mtls_proxy: TlsProxy
) -> None:
    settings = _settings(
        monkeypatch,
        TEMPORAL_ADDRESS=mtls_proxy.address,
        TEMPORAL_TLS_CA=pki.other_ca,
        TEMPORAL_TLS_CERT=pki.client_cert,
        TEMPORAL_TLS_KEY=pki.client_key,
    )
    with pytest.raises(TemporalUnavailableError) as caught:
        await connect(settings)
    assert str(caught.value).startswith(
        f"TLS handshake with Temporal at {mtls_proxy.address} failed: the server's "
        "certificate is not signed by TEMPORAL_TLS_CA"
    )
