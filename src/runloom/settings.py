"""Configuration from the environment and `.env.local`, validated once at start."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from runloom_runtime.egress import parse_allow

# A well-known value that is fine on a laptop and refused anywhere else.
DEVELOPMENT_JWT_SECRET = "runloom-development-secret-do-not-use-in-production"  # noqa: S105


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=(".env", ".env.local"), env_file_encoding="utf-8", extra="ignore"
    )

    runloom_env: Literal["development", "production"] = "development"
    database_url: str | None = Field(
        default=None, description="Postgres URL; unset means the embedded server."
    )
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_ui_url: str = "http://localhost:8233"
    runloom_jwt_secret: SecretStr = SecretStr(DEVELOPMENT_JWT_SECRET)
    supabase_jwt_secret: SecretStr | None = None
    runloom_host: str = "127.0.0.1"
    runloom_port: int = Field(default=8000, ge=1, le=65535)
    runloom_data_dir: Path = Path(".runloom")
    runloom_pg_port: int = Field(default=54329, ge=1, le=65535)
    runloom_db_pool_size: int = Field(default=10, ge=1, le=200)
    runloom_worker_heartbeat_s: float = Field(default=30.0, gt=0)
    runloom_worker_idle_timeout_s: float = Field(default=300.0, gt=0)
    runloom_worker_memory_mb: int = Field(default=1024, ge=64)
    runloom_worker_backlog_poll_s: float = Field(default=3.0, gt=0)
    runloom_worker_max_restarts: int = Field(default=5, ge=0)
    # Python nodes run in a kernel sandbox; "off" runs them as plain child processes, for
    # single-user installs that accept the risk (see docs/security.md).
    runloom_python_isolation: Literal["on", "off"] = "on"
    # Private addresses http nodes may reach anyway: host, host:port or CIDR, comma-separated.
    runloom_egress_allow: str = ""
    runloom_http_max_body_mb: int = Field(default=10, ge=1, le=1024)
    # Rate limits (token buckets in each API process; 0 turns one off): sign-up and
    # sign-in per client IP and per email, run starts per user (a bucket of `burst`).
    runloom_rate_auth_per_minute: int = Field(default=20, ge=0)
    runloom_rate_auth_email_per_minute: int = Field(default=10, ge=0)
    runloom_rate_starts_per_minute: int = Field(default=600, ge=0)
    runloom_rate_starts_burst: int = Field(default=100, ge=1)
    # Quotas per user; the last two are compiled into each version and enforced as it runs.
    runloom_quota_projects: int = Field(default=50, ge=1)
    runloom_quota_workers: int = Field(default=20, ge=1)
    runloom_quota_open_runs: int = Field(default=1000, ge=1)
    runloom_quota_for_each_items: int = Field(default=10_000, ge=1)
    runloom_quota_step_output_kb: int = Field(default=1024, ge=1)
    # Live run streams (server-sent events) one user, and one API process, may hold open.
    runloom_streams_per_user: int = Field(default=50, ge=1)
    runloom_streams_per_process: int = Field(default=2000, ge=1)
    # A step's input or output larger than this (KiB of JSON) is cut in step details;
    # `.../steps/{node_id}/output` answers it whole.
    runloom_step_value_max_kb: int = Field(default=64, ge=1)
    # Graphs compile in child processes: this many at once, each within this many seconds
    # and MiB, and at most `queue` more requests waiting for one (then 503, retry).
    runloom_compile_workers: int = Field(default=2, ge=1, le=64)
    runloom_compile_timeout_s: float = Field(default=10.0, gt=0, le=600)
    runloom_compile_memory_mb: int = Field(default=512, ge=64)
    runloom_compile_queue: int = Field(default=4, ge=0)
    # Project secrets are encrypted under this key (comma-separated: the first encrypts,
    # the others only decrypt, for rotation); unset means a key kept in the data dir.
    runloom_secrets_key: SecretStr | None = None
    # The address webhooks are reached at from outside (e.g. https://runloom.example.com);
    # unset means the address the request came in on.
    runloom_public_url: str | None = None
    # Webhook calls per trigger per minute (0: no limit), and the longest `?wait=` honoured.
    runloom_rate_webhooks_per_minute: int = Field(default=600, ge=0)
    runloom_webhook_max_wait_s: float = Field(default=30.0, gt=0, le=300)

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        secret = self.runloom_jwt_secret.get_secret_value()
        if self.runloom_env != "development" and secret == DEVELOPMENT_JWT_SECRET:
            raise ValueError(
                "RUNLOOM_JWT_SECRET is the development default; set it to a long random "
                "value (e.g. `openssl rand -hex 32`) when RUNLOOM_ENV is not development"
            )
        if len(secret) < 32:
            raise ValueError("RUNLOOM_JWT_SECRET must be at least 32 characters long")
        return self

    @field_validator("runloom_egress_allow")
    @classmethod
    def _egress_entries_parse(cls, value: str) -> str:
        parse_allow(value)  # a ValueError naming the bad entry and the setting
        return value

    @field_validator("temporal_address")
    @classmethod
    def _address_has_port(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(
                f"TEMPORAL_ADDRESS must be host:port, e.g. localhost:7233, not {value!r}"
            )
        return value

    @property
    def temporal_host(self) -> str:
        return self.temporal_address.rpartition(":")[0]

    @property
    def temporal_port(self) -> int:
        return int(self.temporal_address.rpartition(":")[2])


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
