"""The restart policy on its own: backoff, the crash-loop bound, proven workers."""

from __future__ import annotations

import uuid

from runloom.manager.restart_policy import RestartDecision, RestartPolicy


def test_backoff_doubles_up_to_its_cap_then_gives_up() -> None:
    policy = RestartPolicy(max_restarts=5, backoff_initial_s=0.5, backoff_max_s=3.0)
    project = uuid.uuid4()
    decisions = [policy.after_failure(project) for _ in range(6)]
    assert [d.delay_s for d in decisions] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert [d.give_up for d in decisions] == [False] * 5 + [True]
    assert decisions[-1] == RestartDecision(failures=6, give_up=True, delay_s=3.0)


def test_projects_are_counted_apart() -> None:
    policy = RestartPolicy(max_restarts=1)
    a, b = uuid.uuid4(), uuid.uuid4()
    policy.after_failure(a)
    assert policy.after_failure(a).give_up
    assert not policy.after_failure(b).give_up
    assert policy.failures(a) == 2 and policy.failures(b) == 1


def test_a_stable_worker_or_an_explicit_request_starts_the_count_over() -> None:
    policy = RestartPolicy(max_restarts=2, stable_after_s=60.0)
    project = uuid.uuid4()
    policy.after_failure(project)
    policy.ran_for(project, 59.0)
    assert policy.failures(project) == 1
    policy.ran_for(project, 61.0)
    assert policy.failures(project) == 0
    policy.after_failure(project)
    policy.reset(project)
    assert policy.after_failure(project).failures == 1
