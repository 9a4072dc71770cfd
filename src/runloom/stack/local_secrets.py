"""Secrets a single-host install generates for itself and keeps `0600` in the data directory.

A secret that ships with the code (the development JWT secret) is known to everyone who
has read the code, so `runloom up` without configuration generates its own on first start
and reuses it afterwards: tokens survive restarts, and nobody else knows the value.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import stat
from pathlib import Path

from pydantic import SecretStr

from runloom.errors import ConfigurationError
from runloom.settings import DEVELOPMENT_JWT_SECRET, Settings

JWT_SECRET_FILE = "jwt.secret"  # noqa: S105 (a file name)

# Settings refuse a shorter JWT secret; a file holding one is refused here with its path.
_MIN_JWT_SECRET_CHARS = 32


def load_or_create_secret(path: Path, *, nbytes: int = 32) -> str:
    """The secret stored in `path`, created there (mode 0600) on first use.

    Creation is atomic: the value is written to a temporary file opened with O_EXCL and
    then hard-linked into place, which fails if another process got there first (its value
    is then the one returned), so no reader ever sees a partly written file. An existing
    file that group or others may access is refused rather than silently trusted.
    """
    value = read_secret(path)
    if value is not None:
        return value
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(nbytes) + "\n")
            out.flush()
            os.fsync(out.fileno())
        # If another process created it first, theirs is the secret.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    value = read_secret(path)
    if value is None:
        raise ConfigurationError(f"{path} disappeared while it was being created")
    return value


def read_secret(path: Path) -> str | None:
    """The secret in `path`, None if there is no such file; refuses one others may read."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "r", encoding="utf-8") as file:
        mode = os.fstat(file.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise ConfigurationError(f"{path} must be a regular file holding a secret")
        if mode & 0o077:
            raise ConfigurationError(
                f"{path} holds a secret but group or others may access it "
                f"(mode {stat.S_IMODE(mode):04o}); run `chmod 600 {path}` and start again"
            )
        value = file.read().strip()
    if not value:
        raise ConfigurationError(
            f"{path} is empty; delete it to have a new secret generated, or write one into it"
        )
    return value


def jwt_secret_path(settings: Settings) -> Path:
    return settings.runloom_data_dir / JWT_SECRET_FILE


def with_local_jwt_secret(settings: Settings) -> Settings:
    """`settings`, with the data directory's generated JWT secret when none was configured.

    "Configured" means RUNLOOM_JWT_SECRET came from the environment or an env file, even
    if its value is the development default (which a public bind then refuses).
    """
    if "runloom_jwt_secret" in settings.model_fields_set:
        return settings
    path = jwt_secret_path(settings)
    secret = load_or_create_secret(path)
    if len(secret) < _MIN_JWT_SECRET_CHARS:
        raise ConfigurationError(
            f"{path} holds a JWT secret shorter than {_MIN_JWT_SECRET_CHARS} characters; "
            "delete it to have a new one generated"
        )
    return settings.model_copy(update={"runloom_jwt_secret": SecretStr(secret)})


def is_loopback_host(host: str) -> bool:
    """Whether binding `host` keeps the server reachable from this machine only."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def refuse_public_bind_with_development_secret(settings: Settings) -> None:
    """Raise ConfigurationError when the API would listen publicly with the well-known
    development JWT secret, with which anyone can sign a token for any user."""
    if is_loopback_host(settings.runloom_host):
        return
    if settings.runloom_jwt_secret.get_secret_value() != DEVELOPMENT_JWT_SECRET:
        return
    raise ConfigurationError(
        f"RUNLOOM_HOST={settings.runloom_host} is not a loopback address, and "
        "RUNLOOM_JWT_SECRET is the development default, with which anyone can sign a token "
        "for any user. Set RUNLOOM_JWT_SECRET to a long random value (e.g. `openssl rand "
        "-hex 32`), or unset it to use the secret generated in "
        f"{jwt_secret_path(settings)}, or bind to 127.0.0.1"
    )
