"""`make chaos`, part 2: users, projects and workflows made through the HTTP API, and the
driver that starts the runs at a steady rate and signals the ones that wait."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

# Answers after which a request is simply tried again: limits, outages, a busy pool.
RETRYABLE = {429, 500, 502, 503, 504}
START_DEADLINE_S = 120.0
SIGNAL_DEADLINE_S = 150.0
SIGNAL_TIMEOUT_S = 240  # a wait_for_signal node that never hears takes its timeout branch
# An activity whose worker was killed is retried after this (Temporal's start-to-close
# timeout; runloom's default is 60 s, which would only make the settling longer).
PYTHON_TIMEOUT_S = 10
# Python nodes get one attempt unless they declare more (compiler default): an attempt
# lost with a killed worker would fail its run. These declare retries, as a user who
# wants runs to outlive worker crashes does.
RETRY = {"maximum_attempts": 3, "initial_interval_s": 1}


def _chain(*nodes: dict[str, Any], output: Any = None) -> dict[str, Any]:
    every = [{"id": "start", "type": "start"}, *nodes]
    every.append({"id": "end", "type": "end", "config": {"output": output}})
    ids = [n["id"] for n in every]
    return {
        "nodes": every,
        "edges": [{"source": a, "target": b} for a, b in itertools.pairwise(ids)],
    }


def delay_graph(seconds: int) -> dict[str, Any]:
    return _chain(
        {"id": "wait", "type": "delay", "config": {"seconds": seconds}},
        {
            "id": "work",
            "type": "python",
            "timeout_s": PYTHON_TIMEOUT_S,
            "retry": RETRY,
            "config": {"code": "return {'n': input['n'] * 2}"},
        },
        output="{{ steps.work }}",
    )


def signal_graph() -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "approve",
                "type": "wait_for_signal",
                "config": {"signal": "go", "timeout_s": SIGNAL_TIMEOUT_S},
            },
            {"id": "late", "type": "transform", "config": {"output": "timed out"}},
            {
                "id": "work",
                "type": "python",
                "timeout_s": PYTHON_TIMEOUT_S,
                "retry": RETRY,
                "config": {"code": "return {'n': input['n'], 'by': steps['approve']}"},
            },
            {"id": "end", "type": "end", "config": {"output": "{{ steps.work or steps.late }}"}},
        ],
        "edges": [
            {"source": "start", "target": "approve"},
            {"source": "approve", "target": "work"},
            {"source": "approve", "target": "late", "branch": "timeout"},
            {"source": "work", "target": "end"},
            {"source": "late", "target": "end"},
        ],
    }


def branch_graph() -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {
                "id": "is_even",
                "type": "condition",
                "config": {"expression": "input.n % 2 == 0"},
            },
            {
                "id": "even",
                "type": "transform",
                "config": {"output": {"half": "{{ input.n / 2 }}"}},
            },
            {
                "id": "odd",
                "type": "transform",
                "config": {"output": {"next": "{{ input.n + 1 }}"}},
            },
            {
                "id": "shape",
                "type": "python",
                "timeout_s": PYTHON_TIMEOUT_S,
                "retry": RETRY,
                "config": {"code": "return {'n': input['n'], 'even': steps.get('even')}"},
            },
            {"id": "end", "type": "end", "config": {"output": "{{ steps.shape }}"}},
        ],
        "edges": [
            {"source": "start", "target": "is_even"},
            {"source": "is_even", "target": "even", "branch": "true"},
            {"source": "is_even", "target": "odd", "branch": "false"},
            {"source": "even", "target": "shape"},
            {"source": "odd", "target": "shape"},
            {"source": "shape", "target": "end"},
        ],
    }


def failing_graph() -> dict[str, Any]:
    return _chain(
        {
            "id": "boom",
            "type": "python",
            "timeout_s": PYTHON_TIMEOUT_S,
            "config": {"code": "raise ValueError(f\"order {input['n']} is negative\")"},
            "retry": {"maximum_attempts": 2, "initial_interval_s": 1},
        }
    )


# kind → (graph, the status every run of it must end with)
KINDS: dict[str, tuple[Callable[[], dict[str, Any]], str]] = {
    "delay1": (lambda: delay_graph(1), "completed"),
    "delay3": (lambda: delay_graph(3), "completed"),
    "signal": (signal_graph, "completed"),
    "branch": (branch_graph, "completed"),
    "fail": (failing_graph, "failed"),
    "delay2": (lambda: delay_graph(2), "completed"),
}


@dataclass
class Answer:
    at: float
    method: str
    path: str
    status: int  # 0: no answer (transport error)
    detail_is_json: bool
    took_s: float = 0.0


@dataclass
class Api:
    """An HTTP client that remembers every answer (time, status), for the outage checks."""

    client: httpx.AsyncClient
    answers: list[Answer] = field(default_factory=list)

    async def call(
        self, method: str, path: str, *, token: str | None = None, json: Any = None
    ) -> httpx.Response | None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        began = time.monotonic()
        try:
            response = await self.client.request(method, path, json=json, headers=headers)
        except httpx.TransportError:
            now = time.monotonic()
            self.answers.append(Answer(now, method, path, 0, False, now - began))
            return None
        detail = False
        if response.status_code >= 400:
            try:
                detail = isinstance(response.json().get("detail"), str)
            except ValueError:
                detail = False
        now = time.monotonic()
        self.answers.append(Answer(now, method, path, response.status_code, detail, now - began))
        return response

    async def ok(
        self, method: str, path: str, expect: int, *, token: str | None = None, json: Any = None
    ) -> dict[str, Any]:
        """Call until the expected answer (setup happens before any fault, but a cold
        worker start may answer 503 once)."""
        for attempt in range(30):
            response = await self.call(method, path, token=token, json=json)
            if response is not None and response.status_code == expect:
                body: dict[str, Any] = response.json() if response.content else {}
                return body
            if response is not None and response.status_code not in RETRYABLE:
                raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
            await asyncio.sleep(min(0.5 * (attempt + 1), 3))
        raise RuntimeError(f"{method} {path}: no {expect} after 30 attempts")


@dataclass(frozen=True)
class Flow:
    id: str
    project_id: str
    kind: str
    token: str


@dataclass
class Setup:
    tokens: list[str]
    projects: list[dict[str, Any]]
    flows: list[Flow]


async def create_everything(api: Api, *, users: int = 3, projects: int = 10) -> Setup:
    tokens = []
    for _ in range(users):
        email = f"chaos-{uuid.uuid4().hex[:8]}@example.test"
        session = await api.ok(
            "POST", "/api/auth/signup", 201, json={"email": email, "password": "chaos-monkey!"}
        )
        tokens.append(session["access_token"])
    made: list[dict[str, Any]] = []
    flows: list[Flow] = []
    kinds = list(KINDS)
    for i in range(projects):
        token = tokens[i % users]
        project = (await api.ok("POST", "/api/projects", 201, token=token, json={"name": f"p{i}"}))[
            "project"
        ]
        made.append({**project, "token": token})
        # Two or three workflows a project; every kind appears in several projects.
        for kind in [kinds[(i + k) % len(kinds)] for k in range(2 + i % 2)]:
            graph = KINDS[kind][0]()
            body = {"project_id": project["id"], "name": f"{kind}-{i}", "graph": graph}
            workflow = (await api.ok("POST", "/api/workflows", 201, token=token, json=body))[
                "workflow"
            ]
            await api.ok("POST", f"/api/workflows/{workflow['id']}/deploy", 201, token=token)
            flows.append(Flow(workflow["id"], project["id"], kind, token))
    # Every project's worker up (and serving every version) before the load begins.
    await asyncio.gather(
        *(
            api.ok("POST", f"/api/projects/{p['id']}/workers/start", 202, token=p["token"])
            for p in made
        )
    )
    return Setup(tokens=tokens, projects=made, flows=flows)


@dataclass
class Started:
    index: int
    flow: Flow
    execution_id: str
    temporal_workflow_id: str
    started_at: float
    signalled: bool = False


@dataclass
class Driver:
    api: Api
    flows: list[Flow]
    runs: int
    rate: float
    concurrency: int = 60
    started: list[Started] = field(default_factory=list)
    gave_up: list[str] = field(default_factory=list)  # what could not be done, and why
    retries: Counter[str] = field(default_factory=Counter)
    begun_at: float = 0.0
    finished_at: float = 0.0
    on_progress: Callable[[str], None] = lambda _: None

    async def run(self) -> None:
        limit = asyncio.Semaphore(self.concurrency)
        rng = random.Random(11)  # noqa: S311 (a reproducible mix, not a secret)
        tasks = []
        self.begun_at = time.monotonic()
        for i in range(self.runs):
            await asyncio.sleep(max(0.0, self.begun_at + i / self.rate - time.monotonic()))
            await limit.acquire()
            flow = self.flows[rng.randrange(len(self.flows))]
            task = asyncio.create_task(self._one(i, flow, rng.uniform(0.3, 1.5)))
            task.add_done_callback(lambda _: limit.release())
            tasks.append(task)
        await asyncio.gather(*tasks)
        self.finished_at = time.monotonic()

    async def _one(self, index: int, flow: Flow, signal_after_s: float) -> None:
        started = await self._start(index, flow)
        if started is None:
            return
        self.started.append(started)
        self.on_progress("started")
        if flow.kind == "signal":
            await asyncio.sleep(signal_after_s)
            started.signalled = await self._signal(started)
            self.on_progress("signalled")

    async def _start(self, index: int, flow: Flow) -> Started | None:
        deadline = time.monotonic() + START_DEADLINE_S
        path = f"/api/workflows/{flow.id}/executions"
        while time.monotonic() < deadline:
            response = await self.api.call(
                "POST", path, token=flow.token, json={"input": {"n": index}}
            )
            if response is not None and response.status_code == 201:
                execution = response.json()["execution"]
                return Started(
                    index,
                    flow,
                    execution["id"],
                    execution["temporal_workflow_id"],
                    time.monotonic(),
                )
            status = 0 if response is None else response.status_code
            if response is not None and status not in RETRYABLE:
                self.gave_up.append(f"start {index}: {status} {response.text[:200]}")
                return None
            self.retries[f"start answered {status or 'no answer'}"] += 1
            await asyncio.sleep(0.5)
        self.gave_up.append(f"start {index}: no 201 within {START_DEADLINE_S:g} s")
        return None

    async def _signal(self, run: Started) -> bool:
        deadline = time.monotonic() + SIGNAL_DEADLINE_S
        path = f"/api/executions/{run.execution_id}/signal"
        while time.monotonic() < deadline:
            response = await self.api.call(
                "POST", path, token=run.flow.token, json={"name": "go", "payload": "chaos"}
            )
            if response is not None and response.status_code == 202:
                return True
            status = 0 if response is None else response.status_code
            text = "" if response is None else response.text
            if status == 422 and "already ended" in text:
                self.gave_up.append(f"signal {run.index}: the run had already ended")
                return False
            # 422 "Temporal refused the signal" is what a Temporal restart looks like here.
            self.retries[f"signal answered {status or 'no answer'}"] += 1
            await asyncio.sleep(0.5)
        self.gave_up.append(f"signal {run.index}: no 202 within {SIGNAL_DEADLINE_S:g} s")
        return False
