"""Project secrets for a worker's activities, asked of its manager over the pipe.

The worker holds no database access and gets no secret in its environment or its start
message. An activity that uses secrets calls :func:`runloom_runtime.project_secrets.current`,
which this module answers: a :class:`~runloom.worker.protocol.SecretsRequest` goes up
stdout, and the manager's :class:`~runloom.worker.protocol.Secrets` comes back on stdin,
read from the database at that moment. Every call asks again (no cache), so a secret
changed between two runs is what the second one uses, with no restart and no race
against a push.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Mapping

from temporalio.exceptions import ApplicationError

from runloom.worker import protocol
from runloom_runtime import project_secrets

__all__ = ["FETCH_TIMEOUT_S", "SecretsPipe"]

# A manager answers from one indexed query; this long without an answer means it is busy
# or gone, and the activity is better retried (by Temporal, with backoff) than stuck.
FETCH_TIMEOUT_S = 10.0


class SecretsPipe:
    """Requests in flight, by id; :meth:`answer` resolves them as answers arrive."""

    def __init__(
        self, send: Callable[[protocol.SecretsRequest], None], *, timeout_s: float = FETCH_TIMEOUT_S
    ) -> None:
        self._send = send
        self._timeout_s = timeout_s
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[protocol.Secrets]] = {}

    def install(self) -> None:
        """Answer ``project_secrets.current()`` of this process from now on."""
        project_secrets.set_provider(self.fetch)

    def close(self) -> None:
        project_secrets.set_provider(None)
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()

    async def fetch(self) -> Mapping[str, str]:
        """The project's secrets now; a retryable ApplicationError when they cannot be had."""
        request_id = next(self._ids)
        future: asyncio.Future[protocol.Secrets] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            self._send(protocol.SecretsRequest(request_id=request_id))
            answer = await asyncio.wait_for(future, self._timeout_s)
        except TimeoutError:
            raise _unavailable(f"the manager did not answer within {self._timeout_s:g} s") from None
        finally:
            self._pending.pop(request_id, None)
        if answer.values is None:
            raise _unavailable(answer.error or "the manager gave no reason")
        return answer.values

    def answer(self, message: protocol.Secrets) -> None:
        """An answer from the manager; one for a request that timed out is dropped."""
        future = self._pending.get(message.request_id)
        if future is not None and not future.done():
            future.set_result(message)


def _unavailable(reason: str) -> ApplicationError:
    # Retryable: the manager may be restarting or the database briefly away.
    return ApplicationError(
        f"the project's secrets could not be fetched: {reason}", type="SecretsUnavailable"
    )
