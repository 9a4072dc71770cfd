"""The manager-worker protocol: every message survives the wire, anything else is refused."""

from __future__ import annotations

import pytest

from runloom.worker import protocol

ENTRY = protocol.BundleEntry("runloom_code.p.w.v1", "w@v1", 1, "W = 1", "A = 2")

MESSAGES: list[protocol.ManagerMessage | protocol.WorkerMessage] = [
    protocol.Start(
        task_queue="q",
        temporal_address="localhost:7233",
        temporal_namespace="default",
        identity="w@h",
        heartbeat_s=1.5,
        graceful_shutdown_s=3.0,
        bundle=(ENTRY,),
        python_isolation="off",
        egress={"allow": ["10.0.0.0/8"]},
    ),
    protocol.Reload(bundle=(ENTRY, ENTRY)),
    protocol.Stop(),
    protocol.Ready(pid=12, loaded=("w@v1",), startup_ms=300),
    protocol.Heartbeat(
        rss_mb=50.5,
        cpu_percent=1.25,
        loaded=("w@v1",),
        tasks_completed=3,
        tasks_failed=1,
        avg_task_ms=None,
    ),
    protocol.Reloaded(loaded=()),
    protocol.ReloadFailed(message="SyntaxError: nope"),
    protocol.Error(message="boom"),
    protocol.Stopped(tasks_completed=3, tasks_failed=1),
    protocol.SecretsRequest(request_id=7),
    protocol.Secrets(request_id=7, values={"API_TOKEN": "tok-1", "EMPTY": ""}),
    protocol.Secrets(request_id=8, error="the manager could not read them (VaultError)"),
]


def test_secret_values_stay_out_of_a_message_repr() -> None:
    message = protocol.Secrets(request_id=1, values={"API_TOKEN": "tok-3f9a61c2"})
    assert "tok-3f9a61c2" not in repr(message)
    assert protocol.decode(protocol.encode(message)) == message


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_round_trip(message: protocol.ManagerMessage | protocol.WorkerMessage) -> None:
    line = protocol.encode(message)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert protocol.decode(line) == message


@pytest.mark.parametrize(
    "line",
    [
        b"not json",
        b"[]",
        b'{"type": "nope"}',
        b'{"type": "ready", "pid": 1}',
        b'{"type": "ready", "pid": 1, "loaded": [], "startup_ms": 1, "extra": 1}',
        b'{"type": "reload", "bundle": [{"module": "m"}]}',
    ],
)
def test_anything_else_is_a_protocol_error(line: bytes) -> None:
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(line)
