"""`runloom manager` that cannot reach Temporal says so in one line, naming the address."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from runloom.stack.ports import free_port


def test_a_manager_without_temporal_names_the_address_and_shows_no_traceback(
    tmp_path: Path,
) -> None:
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "RUNLOOM_"))},
        "DATABASE_URL": f"postgresql://runloom@127.0.0.1:{free_port()}/runloom",
        "TEMPORAL_ADDRESS": address,
        "RUNLOOM_DATA_DIR": str(tmp_path / "data"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "runloom.cli", "manager"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert f"cannot connect to Temporal at {address}" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
