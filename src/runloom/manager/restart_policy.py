"""When a crashed project worker is started again, and when runloom gives up on it.

Pure: no clock, no processes. The manager asks :meth:`RestartPolicy.after_failure`
each time a worker of a project dies (or cannot be spawned) and follows the answer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from uuid import UUID

__all__ = ["RestartDecision", "RestartPolicy", "crash_record"]


@dataclass(frozen=True, slots=True)
class RestartDecision:
    failures: int
    give_up: bool
    delay_s: float


class RestartPolicy:
    """Exponential backoff per project, bounded; a crash loop stops after ``max_restarts``.

    A worker that ran for ``stable_after_s`` has proven itself: its project's count starts
    over. An explicit request (start, restart) also starts it over, through :meth:`reset`.
    """

    def __init__(
        self,
        *,
        max_restarts: int = 5,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        stable_after_s: float = 60.0,
    ) -> None:
        self.max_restarts = max_restarts
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.stable_after_s = stable_after_s
        self._failures: defaultdict[UUID, int] = defaultdict(int)

    def failures(self, project_id: UUID) -> int:
        return self._failures.get(project_id, 0)

    def after_failure(self, project_id: UUID) -> RestartDecision:
        failures = self._failures[project_id] = self._failures[project_id] + 1
        delay = min(self.backoff_initial_s * 2 ** (failures - 1), self.backoff_max_s)
        return RestartDecision(
            failures=failures, give_up=failures > self.max_restarts, delay_s=delay
        )

    def ran_for(self, project_id: UUID, uptime_s: float) -> None:
        """A worker of the project has been up for ``uptime_s``."""
        if uptime_s > self.stable_after_s:
            self.reset(project_id)

    def reset(self, project_id: UUID) -> None:
        self._failures.pop(project_id, None)


def crash_record(
    *, description: str, exit_code: int | None, stderr_tail: str, failures: int, give_up: bool
) -> dict[str, Any]:
    """What the registry keeps of a crashed worker: why, how, and whether runloom gave up."""
    error = description
    if give_up:
        error = (
            f"{description}; gave up after {failures} consecutive failures "
            "(restart it explicitly once fixed)"
        )
    return {
        "reason": "crash_loop" if give_up else "crashed",
        "error": error,
        "exit_code": exit_code,
        "stderr_tail": stderr_tail[-4000:],
        "consecutive_failures": failures,
    }
