"""Step details through the API of a running runloom (real Postgres, real Temporal, the
project's real worker and its sandboxed python runners): a finished run, a live one, and
both again with the project's worker stopped; a python node's print, logging and
traceback; a big output cut and downloaded whole; and nobody else's run."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pytest

from tests.api.conftest import Api, SignUp
from tests.api.helpers import new_project, new_workflow, wait_for_end

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

CALC_CODE = (
    "import logging\n"
    "print('adding', input['xs'])\n"
    "logging.getLogger('orders').info('%d numbers', len(input['xs']))\n"
    "return {'total': sum(input['xs'])}"
)


def _chain(*middle: dict[str, Any], end_output: Any = None) -> dict[str, Any]:
    nodes = [{"id": "start", "type": "start"}, *middle]
    nodes.append({"id": "end", "type": "end", "config": {"output": end_output}})
    edges = [{"source": a["id"], "target": b["id"]} for a, b in itertools.pairwise(nodes)]
    return {"nodes": nodes, "edges": edges}


CALC = {"id": "calc", "type": "python", "config": {"code": CALC_CODE}}
SHAPE = {
    "id": "shape",
    "type": "transform",
    "config": {
        "output": {"total": "{{ steps.calc.total }}", "doubled": "{{ steps.calc.total * 2 }}"}
    },
}


async def _steps(api: Api, execution_id: str) -> dict[str, dict[str, Any]]:
    body = await api.ok("GET", f"/api/executions/{execution_id}/steps")
    return {
        s["node_id"] if s["item_index"] is None else f"{s['node_id']}[{s['item_index']}]": s
        for s in body["steps"]
    }


async def _start(api: Api, graph: dict[str, Any], payload: Any) -> tuple[str, str]:
    project = await new_project(api, "steps")
    wid = await new_workflow(api, project["id"], graph)
    build = await api.ok("POST", f"/api/workflows/{wid}/build", 201, json={"input": payload})
    return project["id"], build["execution_id"]


async def _stop_worker(api: Api, project_id: str) -> None:
    await api.ok("POST", f"/api/projects/{project_id}/workers/stop", 202)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = (await api.ok("GET", f"/api/projects/{project_id}/workers"))["workers"]
        if workers and all(w["status"] in ("stopped", "failed") for w in workers):
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"the worker of {project_id} did not stop: {workers}")


async def test_a_finished_run_and_then_with_its_worker_stopped(sign_up: SignUp) -> None:
    api = await sign_up()
    project_id, execution_id = await _start(
        api, _chain(CALC, SHAPE, end_output="{{ steps.shape }}"), {"xs": [1, 2, 3]}
    )
    assert (await wait_for_end(api, execution_id))["status"] == "completed"
    steps = await _steps(api, execution_id)
    assert list(steps) == ["start", "calc", "shape", "end"]
    calc = steps["calc"]
    assert (calc["type"], calc["status"], calc["attempts"], calc["error"]) == (
        "python",
        "completed",
        1,
        None,
    )
    assert calc["input"]["input"] == {"xs": [1, 2, 3]} and calc["output"] == {"total": 6}
    assert calc["logs"] == ["adding [1, 2, 3]", "INFO orders: 3 numbers"]
    assert calc["duration_ms"] is not None and calc["started_at"] <= calc["finished_at"]
    shape = steps["shape"]
    assert (shape["type"], shape["output"], shape["input"]) == (
        "transform",
        {"total": 6, "doubled": 12},
        None,
    )
    assert steps["start"]["output"] == {"xs": [1, 2, 3]}
    assert steps["end"]["output"] == {"total": 6, "doubled": 12}
    assert all(s["truncated"] is False and s["item_index"] is None for s in steps.values())

    await _stop_worker(api, project_id)
    assert await _steps(api, execution_id) == steps  # history and memo, no worker needed


async def test_a_running_run_and_then_with_its_worker_stopped(sign_up: SignUp) -> None:
    api = await sign_up()
    approve = {
        "id": "approve",
        "type": "wait_for_signal",
        "config": {"signal": "go", "timeout_s": 600},
    }
    project_id, execution_id = await _start(api, _chain(CALC, SHAPE, approve), {"xs": [5]})
    deadline = time.monotonic() + 60
    steps: dict[str, dict[str, Any]] = {}
    # Workflow-side outputs (shape's) come from the worker's answer to a query; a read
    # whose query the worker did not answer in time (a loaded machine) has the recorded
    # node states alone: read until the worker has answered.
    while time.monotonic() < deadline and not (
        "approve" in steps and steps.get("shape", {}).get("output") is not None
    ):
        steps = await _steps(api, execution_id)
        await asyncio.sleep(0.2)
    assert steps["approve"]["status"] == "running" and steps["approve"]["finished_at"] is None
    assert steps["calc"]["output"] == {"total": 5} and steps["shape"]["output"]["total"] == 5
    assert "end" not in steps

    await _stop_worker(api, project_id)
    started = time.monotonic()
    alone = await _steps(api, execution_id)
    assert time.monotonic() - started < 10  # a short wait for a worker, then the history
    assert alone["calc"]["status"] == "completed" and alone["calc"]["output"] == {"total": 5}
    assert alone["calc"]["logs"] == ["adding [5]", "INFO orders: 1 numbers"]
    await api.ok("POST", f"/api/executions/{execution_id}/terminate", 202, json={"reason": "test"})


async def test_a_python_step_shows_its_print_and_a_traceback_of_its_own_code(
    sign_up: SignUp,
) -> None:
    api = await sign_up()
    code = (
        "def lines(order):\n"
        "    return order['lines']\n"
        "print('checking', input['id'])\n"
        "return lines(input)"
    )
    boom = {"id": "boom", "type": "python", "config": {"code": code}}
    _, execution_id = await _start(api, _chain(boom), {"id": 17})
    assert (await wait_for_end(api, execution_id))["status"] == "failed"
    step = (await _steps(api, execution_id))["boom"]
    assert (step["status"], step["output"], step["logs"]) == ("failed", None, ["checking 17"])
    assert step["error"]["type"] == "KeyError" and "lines" in step["error"]["message"]
    # Python marks the failing expression under its line (^^^); only the user's frames.
    lines = [line for line in step["error"]["traceback"] if line.strip(" ^~")]
    assert lines == [
        "Traceback (most recent call last):",
        "  File \"<python node 'boom'>\", line 4, in node",
        "    return lines(input)",
        "  File \"<python node 'boom'>\", line 2, in lines",
        "    return order['lines']",
        "KeyError: 'lines'",
    ]


async def test_a_big_output_is_cut_and_downloaded_whole(sign_up: SignUp) -> None:
    api = await sign_up()
    big = {"id": "big", "type": "python", "config": {"code": "return {'text': 'x' * 200000}"}}
    each = {
        "id": "each",
        "type": "for_each",
        "config": {
            "items": "input.xs",
            "step": {"type": "python", "config": {"code": "return item * 10"}},
        },
    }
    _, execution_id = await _start(api, _chain(big, each), {"xs": [1, 2]})
    assert (await wait_for_end(api, execution_id))["status"] == "completed"
    steps = await _steps(api, execution_id)
    cut = steps["big"]
    assert cut["truncated"] is True and isinstance(cut["output"], str)
    assert cut["output"].startswith('{"text":"xxx') and len(cut["output"]) < 70 * 1024
    whole = await api.ok("GET", f"/api/executions/{execution_id}/steps/big/output")
    assert whole == {"text": "x" * 200000}
    assert [steps[f"each[{i}]"]["output"] for i in (0, 1)] == [10, 20]
    assert steps["each"]["output"] == [10, 20]
    second = await api.ok(
        "GET", f"/api/executions/{execution_id}/steps/each/output", params={"item": 1}
    )
    assert second == 20
    missing = await api.get(f"/api/executions/{execution_id}/steps/nope/output")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]


async def test_another_user_cannot_see_the_steps(sign_up: SignUp) -> None:
    owner, stranger = await sign_up(), await sign_up()
    _, execution_id = await _start(owner, _chain(CALC), {"xs": [1]})
    await wait_for_end(owner, execution_id)
    for path in ("steps", "steps/calc/output", "steps/calc/input"):
        answer = await stranger.get(f"/api/executions/{execution_id}/{path}")
        assert answer.status_code == 404, (path, answer.text)
        assert (await owner.get(f"/api/executions/{execution_id}/{path}")).status_code == 200
