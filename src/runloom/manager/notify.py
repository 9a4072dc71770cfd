"""Failure notices: when a run ends failed or timed out, POST a JSON notice to its
project's failure webhook (``projects.failure_webhook_url``).

The URL is a user's and the request a platform process's, next to Postgres, Temporal, the
API and the cloud metadata service. So it goes through the egress guard of http nodes
(:class:`runloom_runtime.http.GuardedTransport` with the platform's policy,
:func:`runloom.services.egress_policy.platform_egress`): loopback, private and link-local addresses
and runloom's own services are refused unless ``RUNLOOM_EGRESS_ALLOW`` lists them, checked
on the address then connected to (no DNS rebinding), before any socket to it opens.
Redirects are not followed and the answer's body is never read.

The tracker must not wait for anyone's server: :meth:`FailureNotifier.run_ended` only
schedules a task, a bounded number of notices wait (more are dropped with a warning),
each attempt has a short timeout, a few attempts back off, and a notice that cannot be
delivered is logged, never raised.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from runloom.db.pool import Pool
from runloom.db.session import service_session
from runloom.errors import RunloomError
from runloom.manager import metrics as manager_metrics
from runloom.services.outcome import Outcome
from runloom.settings import Settings
from runloom.store import projects
from runloom.store.executions import FinishedRun
from runloom_runtime import egress
from runloom_runtime.http import GuardedTransport

__all__ = [
    "NOTIFIED_STATUSES",
    "Delivery",
    "FailureNotifier",
    "NoticeFailedError",
    "NoticeRefusedError",
    "deliver",
    "notice",
    "public_base",
]

log = logging.getLogger(__name__)

NOTIFIED_STATUSES = frozenset({"failed", "timed_out"})
EVENT = "run.failed"
_MAX_ERROR_CHARS = 4000
# Answers worth another attempt: the server is busy or broken, not refusing the notice.
_RETRY_STATUSES = frozenset({408, 425, 429})


class NoticeFailedError(RunloomError):
    """A notice was not delivered (after every attempt, or refused by its server)."""


class NoticeRefusedError(NoticeFailedError):
    """The egress guard refused the webhook's URL or address: nothing was sent."""


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """How hard to try: ``attempts`` of at most ``timeout_s`` each, ``backoff_s`` before
    the second (doubling after that); ``max_pending`` notices wait at most, of which
    ``concurrency`` are sent at once."""

    timeout_s: float = 5.0
    attempts: int = 3
    backoff_s: float = 1.0
    max_pending: int = 256
    concurrency: int = 8
    # Test seams of the guard: the resolver and the backend that opens sockets.
    resolver: egress.Resolver = egress.system_resolver
    network_backend: httpcore.AsyncNetworkBackend | None = None


def public_base(settings: Settings) -> str:
    """Where people reach the UI: RUNLOOM_PUBLIC_URL, else the API's own address."""
    if settings.runloom_public_url:
        return settings.runloom_public_url.rstrip("/")
    host = settings.runloom_host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.runloom_port}"


def notice(run: FinishedRun, outcome: Outcome, *, workflow_name: str, base: str) -> dict[str, Any]:
    """The JSON body of a failure notice."""
    error = outcome.error
    if error is not None and len(error) > _MAX_ERROR_CHARS:
        error = error[:_MAX_ERROR_CHARS] + "…"
    return {
        "event": EVENT,
        "execution_id": str(run.id),
        "workflow_id": str(run.workflow_id),
        "workflow_name": workflow_name,
        "project_id": str(run.project_id),
        "status": outcome.status,
        "error": error,
        "url": f"{base}/workflows/{run.workflow_id}?run={run.id}",
    }


def shown(url: str) -> str:
    """The URL's scheme and host only, for logs: a webhook's path often holds a token."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return "(an invalid URL)"
    return f"{parsed.scheme}://{parsed.netloc.decode('ascii', errors='replace')}"


async def _attempt(client: httpx.AsyncClient, url: str, payload: Mapping[str, Any]) -> int:
    """One POST; the status it was answered with (the body is left unread)."""
    headers = {"user-agent": "runloom-failure-notice", "x-runloom-event": EVENT}
    async with client.stream("POST", url, json=payload, headers=headers) as response:
        return response.status_code


async def deliver(
    url: str,
    payload: Mapping[str, Any],
    *,
    policy: egress.EgressPolicy,
    delivery: Delivery = Delivery(),
) -> int:
    """POST ``payload`` to ``url`` through the egress guard; the attempts it took.

    Raises :class:`NoticeRefusedError` when the guard refuses (at once: no retry sends
    what the policy forbids) and :class:`NoticeFailedError` when no attempt succeeded.
    """
    failure = "no attempt was made"
    transport = GuardedTransport(
        policy=policy, resolver=delivery.resolver, network_backend=delivery.network_backend
    )
    async with httpx.AsyncClient(
        transport=transport, timeout=delivery.timeout_s, follow_redirects=False, trust_env=False
    ) as client:
        for attempt in range(1, delivery.attempts + 1):
            if attempt > 1:
                await asyncio.sleep(delivery.backoff_s * 2 ** (attempt - 2))
            try:
                egress.check_scheme(httpx.URL(url).scheme)
                status = await _attempt(client, url, payload)
            except (egress.EgressDenied, httpx.InvalidURL) as err:
                raise NoticeRefusedError(str(err)) from err
            except httpx.HTTPError as err:
                failure = f"{type(err).__name__}: {err}"
                continue
            if 200 <= status < 300:
                return attempt
            failure = f"answered HTTP {status}"
            if status < 500 and status not in _RETRY_STATUSES:
                break  # the server refuses this notice; asking again will not change that
    raise NoticeFailedError(failure)


class FailureNotifier:
    """Sends the failure notices of the runs the tracker records, in the background."""

    def __init__(
        self,
        *,
        pool: Pool,
        policy: egress.EgressPolicy,
        base: str,
        delivery: Delivery = Delivery(),
    ) -> None:
        self._pool = pool
        self._policy = policy
        self._base = base
        self._delivery = delivery
        self._sending = asyncio.Semaphore(delivery.concurrency)
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def run_ended(self, run: FinishedRun, outcome: Outcome) -> None:
        """Announce the run if it failed or timed out; returns at once."""
        if outcome.status not in NOTIFIED_STATUSES:
            return
        if len(self._tasks) >= self._delivery.max_pending:
            log.warning("failure notice of execution %s dropped: too many are waiting", run.id)
            return
        task = asyncio.create_task(self._notify(run, outcome), name=f"notify-{run.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def run(self, stop: asyncio.Event, *, grace_s: float = 5.0) -> None:
        """Until ``stop`` is set; then give waiting notices ``grace_s`` to go out."""
        await stop.wait()
        if self._tasks:
            _, late = await asyncio.wait(set(self._tasks), timeout=grace_s)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def _notify(self, run: FinishedRun, outcome: Outcome) -> None:
        try:
            async with service_session(self._pool) as conn:
                target = await projects.failure_webhook(conn, workflow_id=run.workflow_id)
            if target is None:
                return
            payload = notice(run, outcome, workflow_name=target.workflow_name, base=self._base)
            async with self._sending:
                await deliver(target.url, payload, policy=self._policy, delivery=self._delivery)
            log.info("failure notice of execution %s sent to %s", run.id, shown(target.url))
            manager_metrics.notice_result(sent=True)
        except NoticeRefusedError as err:
            log.warning("failure notice of execution %s refused, nothing sent: %s", run.id, err)
            manager_metrics.notice_result(sent=False)
        except NoticeFailedError as err:
            log.warning("failure notice of execution %s not delivered: %s", run.id, err)
            manager_metrics.notice_result(sent=False)
        except Exception:
            # A notice is a courtesy: whatever went wrong, the tracker carries on.
            log.exception("failure notice of execution %s failed", run.id)
            manager_metrics.notice_result(sent=False)
