"""A manager in its own process, so that a test can kill it with SIGKILL.

Usage: python -m tests.manager.manager_main '{"database_url": ..., "temporal_address": ...,
"manager_id": ..., "heartbeat_s": ...}'
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys

from runloom.manager.app import run_manager
from runloom.settings import Settings


async def _run(config: dict[str, object]) -> None:
    settings = Settings(
        temporal_address=str(config["temporal_address"]),
        runloom_worker_heartbeat_s=float(str(config["heartbeat_s"])),
        runloom_worker_idle_timeout_s=600.0,
        runloom_worker_backlog_poll_s=0.5,
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await run_manager(
        settings,
        database_url=str(config["database_url"]),
        stop=stop,
        manager_id=str(config["manager_id"]),
    )


if __name__ == "__main__":
    asyncio.run(_run(json.loads(sys.argv[1])))
