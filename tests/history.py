"""A run's Temporal history as searchable text: its JSON plus every payload decoded."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from temporalio.client import Client


def _payloads(node: Any) -> list[str]:
    """The decoded ``data`` of every payload in a history's JSON document."""
    found: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            data = item.get("data")
            if isinstance(data, str) and "metadata" in item:
                try:
                    found.append(base64.b64decode(data).decode("utf-8", "replace"))
                except (binascii.Error, ValueError):
                    found.append(data)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


async def history_text(client: Client, workflow_id: str) -> str:
    """Everything Temporal keeps of the run: inputs, results, failures, memo, as text."""
    document = (await client.get_workflow_handle(workflow_id).fetch_history()).to_json()
    return document + "\n" + "\n".join(_payloads(json.loads(document)))
