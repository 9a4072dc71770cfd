"""Run workflow 'orders@v3' outside runloom: `python worker.py`.

Environment: TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE (default
default), TASK_QUEUE (default 'orders').
For a secured cluster or Temporal Cloud, as runloom reads them: TEMPORAL_TLS=1,
TEMPORAL_TLS_CA, TEMPORAL_TLS_SERVER_NAME, TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY
(PEM files) and TEMPORAL_API_KEY; any of them but TEMPORAL_TLS=0 turns TLS on.
"""

import asyncio
import os
from pathlib import Path

from temporalio.client import Client
from temporalio.service import TLSConfig
from temporalio.worker import Worker

import activities
import workflow

DEFAULT_TASK_QUEUE = "orders"


def _pem(name: str) -> bytes | None:
    path = os.environ.get(name)
    return Path(path).read_bytes() if path else None


def tls_from_environment() -> TLSConfig | bool:
    ca, cert = _pem("TEMPORAL_TLS_CA"), _pem("TEMPORAL_TLS_CERT")
    key, name = _pem("TEMPORAL_TLS_KEY"), os.environ.get("TEMPORAL_TLS_SERVER_NAME")
    flag = os.environ.get("TEMPORAL_TLS", "").lower()
    implied = any((ca, cert, name, os.environ.get("TEMPORAL_API_KEY")))
    if flag in ("0", "false") or not (flag in ("1", "true") or implied):
        return False
    return TLSConfig(
        server_root_ca_cert=ca,
        domain=name or None,
        client_cert=cert,
        client_private_key=key,
    )


async def main() -> None:
    address = os.environ.get("TEMPORAL_ADDRESS", "localhost:7233")
    namespace = os.environ.get("TEMPORAL_NAMESPACE", "default")
    task_queue = os.environ.get("TASK_QUEUE", DEFAULT_TASK_QUEUE)
    api_key = os.environ.get("TEMPORAL_API_KEY") or None
    client = await Client.connect(
        address, namespace=namespace, tls=tls_from_environment(), api_key=api_key
    )
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=workflow.WORKFLOWS,
        activities=activities.ACTIVITIES,
    )
    print(
        "worker for",
        workflow.WORKFLOW_TYPE,
        "polling task queue",
        task_queue,
        flush=True,
    )
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main())
