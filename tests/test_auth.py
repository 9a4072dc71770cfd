"""Password hashing runs on two threads of its own, never on the event loop."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from runloom import auth


class _HeldHasher:
    """Stands in for argon2: each call waits until released, and records its thread."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.threads: list[str] = []
        self.running = 0
        self.most_at_once = 0
        self.two_running = threading.Event()

    def _work(self) -> None:
        with self.lock:
            self.threads.append(threading.current_thread().name)
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            if self.running == 2:
                self.two_running.set()
        # If this ran on the event loop, nothing could release it: fail instead of hanging.
        released = self.release.wait(timeout=10)
        with self.lock:
            self.running -= 1
        assert released, "the hash was never released: it blocked the event loop"

    def hash(self, password: str) -> str:
        self._work()
        return f"hashed:{password}"

    def verify(self, password_hash: str, password: str) -> bool:
        self._work()
        return password_hash == f"hashed:{password}"


async def test_hashing_queues_on_two_threads_while_the_loop_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    held = _HeldHasher()
    monkeypatch.setattr(auth, "_hasher", held)
    calls: list[asyncio.Future[Any]] = [
        asyncio.ensure_future(auth.hash_password_async("a")),
        asyncio.ensure_future(auth.verify_password_async("hashed:b", "b")),
        asyncio.ensure_future(auth.verify_password_async("hashed:c", "wrong")),
    ]
    # Two hashes hold both threads; this coroutine (the event loop) still runs.
    assert await asyncio.to_thread(held.two_running.wait, 10)
    assert not any(call.done() for call in calls)
    held.release.set()
    assert await asyncio.gather(*calls) == ["hashed:a", True, False]
    # The third waited for a thread instead of starting a third one.
    assert held.most_at_once == 2
    assert len(set(held.threads)) <= 2
    assert all(name.startswith("runloom-argon2") for name in held.threads)
    assert threading.current_thread().name not in held.threads


async def test_real_hashes_verify() -> None:
    hashed = await auth.hash_password_async("correct horse")
    assert hashed.startswith("$argon2")
    assert await auth.verify_password_async(hashed, "correct horse")
    assert not await auth.verify_password_async(hashed, "wrong horse")
    assert not await auth.verify_password_async("not a hash", "correct horse")
