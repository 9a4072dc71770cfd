"""A stand-in project worker that speaks the protocol and nothing else, for supervisor tests.

Its behaviour comes from the task queue name of the Start message: ``crash`` exits 3
after ready, ``hang`` ignores SIGTERM, ``child`` starts a grandchild that sleeps,
``secrets`` asks for its secrets twice (each answer comes back in a heartbeat's
``loaded``), anything else serves until stopped. A Reload of a bundle whose first module
is ``bad`` fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from runloom.worker import protocol


def send(message: protocol.WorkerMessage) -> None:
    sys.stdout.buffer.write(protocol.encode(message))
    sys.stdout.buffer.flush()


def _stopped_on_sigterm(*_: object) -> None:
    # The signal may land while the main code is inside a write to sys.stdout: writing
    # there again would be a reentrant call (RuntimeError). One short os.write to the pipe
    # is atomic, and _exit leaves the interrupted buffer unflushed.
    os.write(sys.stdout.fileno(), protocol.encode(protocol.Stopped(4, 1)))
    os._exit(0)


def main() -> int:
    start = protocol.decode(sys.stdin.buffer.readline())
    assert isinstance(start, protocol.Start)
    mode = start.task_queue
    if mode == "hang":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGTERM, _stopped_on_sigterm)
    if mode == "child":
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    print("a line on stderr", file=sys.stderr, flush=True)
    send(protocol.Ready(pid=os.getpid(), loaded=("w@v1",), startup_ms=1))
    if mode == "crash":
        send(protocol.Error(message="the fake worker crashed on purpose"))
        return 3
    send(protocol.Heartbeat(10.0, 0.5, ("w@v1",), 2, 0, 7))
    if mode == "secrets":
        send(protocol.SecretsRequest(request_id=1))
    for line in sys.stdin.buffer:
        message = protocol.decode(line)
        if isinstance(message, protocol.Reload):
            if message.bundle and message.bundle[0].module == "bad":
                send(protocol.ReloadFailed(message="SyntaxError: bad code"))
            else:
                send(protocol.Reloaded(loaded=tuple(e.workflow_type for e in message.bundle)))
        elif isinstance(message, protocol.Secrets):
            values = ",".join(f"{k}={v}" for k, v in sorted((message.values or {}).items()))
            shown = f"{message.request_id}:{message.error or values}"
            send(protocol.Heartbeat(10.0, 0.5, (shown,), 2, 0, 7))
            if message.request_id == 1:
                send(protocol.SecretsRequest(request_id=2))
        elif isinstance(message, protocol.Stop):
            break
    while mode == "hang":
        time.sleep(1)
    send(protocol.Stopped(tasks_completed=4, tasks_failed=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
