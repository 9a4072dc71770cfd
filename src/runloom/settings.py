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
