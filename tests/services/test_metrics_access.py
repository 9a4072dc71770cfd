"""Who may read metrics: the token when set, anyone in development, no one in production
without a token."""

from __future__ import annotations

from pydantic import SecretStr

from runloom.services.metrics_access import refusal
from runloom.settings import Settings

SECRET = "s" * 40


def test_without_a_token_development_is_open_and_production_refused() -> None:
    open_settings = Settings(runloom_env="development", runloom_metrics_token=None)
    assert refusal(open_settings, None) is None
    production = Settings(
        runloom_env="production", runloom_jwt_secret=SecretStr(SECRET), runloom_metrics_token=None
    )
    refused = refusal(production, None)
    assert refused is not None and refused.status == 403
    assert "RUNLOOM_METRICS_TOKEN" in refused.message


def test_with_a_token_only_that_bearer_reads() -> None:
    settings = Settings(
        runloom_env="production",
        runloom_jwt_secret=SecretStr(SECRET),
        runloom_metrics_token=SecretStr("t0ken"),
    )
    assert refusal(settings, "Bearer t0ken") is None
    assert refusal(settings, "bearer t0ken") is None
    for header in (None, "", "Bearer", "Bearer t0ke", "Basic t0ken", "Bearer t0ken2"):
        refused = refusal(settings, header)
        assert refused is not None and refused.status == 401, header
