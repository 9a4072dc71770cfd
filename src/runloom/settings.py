"""Configuration from the environment and `.env.local`, validated once at start."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
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

    # Project workers are forked from a warm zygote (README "Performance"); "off" execs each.
    runloom_worker_zygote: Literal["on", "off"] = "on"

    # Temporal TLS, mTLS and API key (README: "Temporal Cloud and secured clusters").
    temporal_tls: bool | None = None
    temporal_tls_ca: Path | None = None
    temporal_tls_server_name: str | None = None
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_api_key: SecretStr | None = None

    # Log lines as today ("text") or one JSON object a line; tracing: OTEL_* (runloom.tracing).
    runloom_log_format: Literal["text", "json"] = "text"

    # Metrics (README "Metrics"): the bearer token GET /metrics asks for (without one it is
    # open in development and refused in production), and where the manager serves its own.
    runloom_metrics_token: SecretStr | None = None
    runloom_manager_metrics_host: str = "127.0.0.1"
    runloom_manager_metrics_port: int = Field(default=0, ge=0, le=65535)

    # Scale-out (README "Scale-out"): this manager's id in the registry; unset means
    # host-pid-random, new at each start (a fixed id lets a restarted manager keep its name).
    runloom_manager_id: str | None = Field(default=None, min_length=1, max_length=200)

    # Namespaces (README "Namespaces per user"): shared (TEMPORAL_NAMESPACE) or one per user.
    runloom_namespace_mode: Literal["shared", "per_user"] = "shared"
    runloom_namespace_prefix: str = "runloom-"
    runloom_namespace_map: str = ""
    runloom_namespace_create: bool = True
    runloom_namespace_retention_days: int = Field(default=30, ge=1, le=3650)

    @field_validator("runloom_namespace_prefix", "runloom_namespace_map")
    @classmethod
    def _namespace_settings_parse(cls, value: str, info: ValidationInfo) -> str:
        from runloom.services import namespaces  # it imports this module

        namespaces.check_setting(info.field_name or "", value)
        return value

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

    @field_validator(
        "temporal_tls",
        "temporal_tls_ca",
        "temporal_tls_server_name",
        "temporal_tls_cert",
        "temporal_tls_key",
        "temporal_api_key",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _temporal_tls_consistent(self) -> Settings:
        if (self.temporal_tls_cert is None) != (self.temporal_tls_key is None):
            given, missing = (
                ("TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY")
                if self.temporal_tls_key is None
                else ("TEMPORAL_TLS_KEY", "TEMPORAL_TLS_CERT")
            )
            raise ValueError(f"{given} is set but {missing} is not: mTLS needs both, or neither")
        files = (self.temporal_tls_ca, self.temporal_tls_cert, self.temporal_tls_server_name)
        if self.temporal_tls is False and any(f is not None for f in files):
            raise ValueError(
                "TEMPORAL_TLS=0 but TEMPORAL_TLS_CA, _CERT or _SERVER_NAME is set; "
                "unset them or TEMPORAL_TLS"
            )
        return self

    @property
    def temporal_tls_enabled(self) -> bool:
        """TLS towards Temporal: as TEMPORAL_TLS says, else on when anything TLS is set
        (an API key too: Temporal Cloud accepts keys only over TLS)."""
        if self.temporal_tls is not None:
            return self.temporal_tls
        implied = (self.temporal_tls_ca, self.temporal_tls_cert, self.temporal_tls_server_name)
        return any(v is not None for v in implied) or self.temporal_api_key is not None

    @property
    def temporal_host(self) -> str:
        return self.temporal_address.rpartition(":")[0]

    @property
    def temporal_port(self) -> int:
        return int(self.temporal_address.rpartition(":")[2])


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
