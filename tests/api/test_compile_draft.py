"""Check compiles the builder's draft without storing it: `POST /api/workflows/{id}/compile`
with a `graph` in the body."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import SignUp
from tests.api.helpers import new_project, new_workflow
from tests.factory import chain


def _http(url: str) -> dict[str, object]:
    return {"id": "fetch", "type": "http_request", "config": {"method": "GET", "url": url}}


async def test_a_draft_graph_is_compiled_and_not_stored(sign_up: SignUp) -> None:
    api = await sign_up()
    project = await new_project(api, "drafts")
    saved = chain(_http("http://127.0.0.1:9/saved"))
    wid = await new_workflow(api, project["id"], saved)

    # A broken draft: its problems are the draft's, and the saved graph is untouched.
    answer = await api.post(f"/api/workflows/{wid}/compile", json={"graph": chain(_http(""))})
    assert answer.status_code == 422, answer.text
    problems = answer.json()["problems"]
    assert [(p["code"], p["node_id"]) for p in problems] == [("out_of_range", "fetch")]
    stored = (await api.ok("GET", f"/api/workflows/{wid}"))["workflow"]
    assert stored["graph"] == saved

    # A good draft compiles to its own code, still without being stored or deployed.
    draft = chain(_http("http://127.0.0.1:9/draft"))
    compiled = (await api.ok("POST", f"/api/workflows/{wid}/compile", json={"graph": draft}))[
        "compiled"
    ]
    assert "/draft" in compiled["workflow_code"] + compiled["activities_code"]
    assert (await api.ok("GET", f"/api/workflows/{wid}"))["workflow"]["graph"] == saved
    assert (await api.ok("GET", f"/api/workflows/{wid}/versions"))["versions"] == []

    # Without a graph (no body, an empty body or a null graph) the saved graph is compiled.
    bodies: list[dict[str, Any]] = [{}, {"json": {}}, {"json": {"graph": None}}]
    for kw in bodies:
        compiled = (await api.ok("POST", f"/api/workflows/{wid}/compile", **kw))["compiled"]
        assert "/saved" in compiled["workflow_code"] + compiled["activities_code"]


async def test_a_draft_is_compiled_only_for_a_workflow_of_the_user(sign_up: SignUp) -> None:
    api, other = await sign_up(), await sign_up()
    project = await new_project(api, "mine")
    wid = await new_workflow(api, project["id"], chain())
    answer = await other.post(f"/api/workflows/{wid}/compile", json={"graph": chain()})
    assert answer.status_code == 404, answer.text
    unknown = await api.post(f"/api/workflows/{wid}/compile", json={"graf": chain()})
    assert unknown.status_code == 422, unknown.text
