"""`runloom up` as a subprocess, the way a person runs it: for tests and benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

# The live stack signs tokens with this, so that tests can forge expired or foreign ones.
TEST_JWT_SECRET = "runloom-test-secret-" + "t" * 32


def up_env(**settings: str) -> dict[str, str]:
    """This process's environment without runloom's or Temporal's settings, plus `settings`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("RUNLOOM_", "TEMPORAL_", "DATABASE_"))
    }
    env.update(settings)
    return env


class LiveStack:
    def __init__(self, *, env: dict[str, str], port: int, cwd: Path) -> None:
        self.env = env
        self.port = port
        self.cwd = cwd
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = cwd / "runloom-up.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self, *, timeout: float = 60.0) -> None:
        """Start and wait until `/api/health` answers 200; RuntimeError if it exits first."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "runloom.cli", "up"],
                env=self.env,
                cwd=self.cwd,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"runloom up exited with {self.process.returncode}: {self.log}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"runloom up did not become healthy within {timeout:.0f} s")

    def kill(self) -> None:
        """SIGKILL: nothing gets to clean up, as in a crash."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> int | None:
        """Ctrl-C, as a person stops it; the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode
