from __future__ import annotations

import pytest
from pydantic import ValidationError

from runloom.settings import Settings


def test_production_refuses_the_development_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNLOOM_ENV", "production")
    monkeypatch.delenv("RUNLOOM_JWT_SECRET", raising=False)
    with pytest.raises(ValidationError, match="RUNLOOM_JWT_SECRET is the development default"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_production_accepts_a_real_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNLOOM_ENV", "production")
    monkeypatch.setenv("RUNLOOM_JWT_SECRET", "x" * 40)
    assert Settings(_env_file=None).runloom_env == "production"  # type: ignore[call-arg]


def test_temporal_address_must_name_a_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "localhost")
    with pytest.raises(ValidationError, match="host:port"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_defaults_match_the_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_UI_URL", "RUNLOOM_PORT"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.temporal_address, settings.temporal_namespace) == ("localhost:7233", "default")
    assert (settings.temporal_ui_url, settings.runloom_port) == ("http://localhost:8233", 8000)
