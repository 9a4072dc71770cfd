"""The CLI uses RUNLOOM_API_KEY as its bearer token when set, without a saved sign-in."""

from __future__ import annotations

from pathlib import Path

import pytest

from runloom.cli.client import Credentials, RunloomClient


def test_the_api_key_in_the_environment_is_the_bearer_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("RUNLOOM_API_KEY", "rl_" + "k" * 43)
    monkeypatch.setenv("RUNLOOM_URL", "http://runloom.test:9000/")
    client = RunloomClient.from_credentials()
    try:
        assert client._http.headers["Authorization"] == "Bearer rl_" + "k" * 43
        assert str(client._http.base_url) == "http://runloom.test:9000"
    finally:
        client.close()


def test_the_key_wins_over_a_saved_sign_in_and_uses_its_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("RUNLOOM_URL", raising=False)
    Credentials(url="http://saved.test:8000", access_token="jwt", email="a@b.test").save()
    monkeypatch.setenv("RUNLOOM_API_KEY", "rl_key")
    client = RunloomClient.from_credentials()
    try:
        assert client._http.headers["Authorization"] == "Bearer rl_key"
        assert str(client._http.base_url) == "http://saved.test:8000"
    finally:
        client.close()
    monkeypatch.delenv("RUNLOOM_API_KEY")
    client = RunloomClient.from_credentials()
    try:
        assert client._http.headers["Authorization"] == "Bearer jwt"
    finally:
        client.close()
