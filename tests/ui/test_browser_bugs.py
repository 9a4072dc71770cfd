"""Bugs of the builder and the run pages, each pinned by a test that failed before its fix."""

from __future__ import annotations

import itertools
from typing import Any

from playwright.async_api import Page, expect

from tests.ui.helpers import (
    Api,
    add_from_palette,
    create_project,
    create_workflow,
    node,
    screenshot,
    sign_up,
)

ACTIVE_ID = (
    "document.activeElement && (document.activeElement.id || document.activeElement.tagName)"
)


def _chain(*steps: dict[str, Any]) -> dict[str, Any]:
    ids = ["start", *(s["id"] for s in steps), "end"]
    nodes = [{"id": "start", "type": "start"}, *steps, {"id": "end", "type": "end"}]
    edges = [{"source": a, "target": b} for a, b in itertools.pairwise(ids)]
    return {"nodes": nodes, "edges": edges}


async def test_renaming_a_node_keeps_the_focus_in_the_panel(page: Page) -> None:
    await sign_up(page)
    project_id = await create_project(page, "Renames")
    await create_workflow(page, project_id, "Rename")
    await add_from_palette(page, "Delay")
    panel = page.get_by_role("complementary", name="Side panel")
    field = panel.get_by_label("Node id")
    await field.fill("wait")
    await field.press("Enter")
    await expect(node(page, "wait")).to_be_visible()
    assert await page.evaluate(ACTIVE_ID) == "node-id"

    # Renamed on the way to the next field: the focus goes there, and typing is kept.
    await field.fill("pause")
    await field.press("Tab")
    await expect(node(page, "pause")).to_be_visible()
    in_panel = await page.evaluate(
        "document.activeElement !== document.body && "
        "!!document.activeElement.closest('[aria-label=\"Side panel\"]')"
    )
    assert in_panel, await page.evaluate(ACTIVE_ID)


async def test_connect_to_offers_no_cycle_and_no_existing_edge(
    page: Page, live_server: str
) -> None:
    await sign_up(page)
    api = await Api.of(page, live_server)
    project_id = await api.project("Connections")
    graph = {
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}},
            {
                "id": "delay_1",
                "type": "delay",
                "config": {"seconds": 1},
                "position": {"x": 0, "y": 150},
            },
            {
                "id": "transform_1",
                "type": "transform",
                "config": {"output": {}},
                "position": {"x": 0, "y": 300},
            },
            {"id": "end", "type": "end", "position": {"x": 250, "y": 150}},
        ],
        "edges": [
            {"source": "start", "target": "delay_1"},
            {"source": "delay_1", "target": "transform_1"},
            {"source": "start", "target": "end"},
        ],
    }
    workflow_id = await api.workflow(project_id, "Wires", graph)
    await page.goto(f"/workflows/{workflow_id}")
    panel = page.get_by_role("complementary", name="Side panel")
    options = panel.get_by_label("Connect to").locator("option")

    # transform_1 runs after start and delay_1: neither may follow it.
    await node(page, "transform_1").click()
    await expect(options).to_have_text(["Choose a node…", "end"])
    # start already leads to delay_1 and end: transform_1 is the one left.
    await node(page, "start").click()
    await expect(options).to_have_text(["Choose a node…", "transform_1"])


async def test_a_new_workflow_ends_with_every_steps_output(page: Page, live_server: str) -> None:
    await sign_up(page)
    project_id = await create_project(page, "Ends")
    workflow_id = await create_workflow(page, project_id, "Default end")
    await node(page, "end").click()
    panel = page.get_by_role("complementary", name="Side panel")
    await expect(panel).to_contain_text("Empty: every step's output.")
    # What the compiler turns into "return every step's output": no output at all.
    api = await Api.of(page, live_server)
    workflow = await api.call("GET", f"/api/workflows/{workflow_id}")
    graph = workflow.get("workflow", workflow)["graph"]
    (end,) = [n for n in graph["nodes"] if n["id"] == "end"]
    assert "output" not in (end.get("config") or {}), end


async def test_breadcrumbs_name_the_project(page: Page, live_server: str) -> None:
    await sign_up(page)
    project_id = await create_project(page, "Crumbs & Co")
    workflow_id = await create_workflow(page, project_id, "Trail")
    for path in (f"/workflows/{workflow_id}/runs", f"/workflows/{workflow_id}/versions"):
        await page.goto(path)
        crumbs = page.get_by_role("navigation", name="Breadcrumbs")
        await expect(crumbs.get_by_role("link", name="Crumbs & Co")).to_have_attribute(
            "href", f"/projects/{project_id}"
        )


async def test_runs_table_actions_line_up(page: Page, live_server: str) -> None:
    await sign_up(page)
    api = await Api.of(page, live_server)
    project_id = await api.project("Lined up")
    noop = {"id": "noop", "type": "transform", "config": {"output": {"a": 1}}}
    ok = await api.workflow(project_id, "Fine", _chain(noop))
    assert (await api.wait_ended(await api.build(ok, {})))["status"] == "completed"
    boom = {"id": "boom", "type": "python", "config": {"code": "raise ValueError('no')"}}
    bad = await api.workflow(project_id, "Broken", _chain(boom))
    assert (await api.wait_ended(await api.build(bad, {})))["status"] == "failed"

    await page.goto("/runs")
    table = page.get_by_role("table", name="Runs")
    headers = [h.strip() for h in await table.locator("thead th").all_inner_texts()]
    assert "RUN" not in [h.upper() for h in headers if h], headers
    await expect(table.locator("tbody tr")).to_have_count(2)
    opens = table.get_by_role("link", name="Open run")
    await expect(opens).to_have_count(2)
    xs = []
    for i in range(2):
        box = await opens.nth(i).bounding_box()
        assert box
        xs.append(round(box["x"]))
    assert xs[0] == xs[1], f"the Open links are not in one column: {xs}"
    await screenshot(page, "runs-actions-aligned")


async def test_the_live_stream_url_carries_no_login_token(page: Page, live_server: str) -> None:
    await sign_up(page)
    api = await Api.of(page, live_server)
    token = api.headers["Authorization"].removeprefix("Bearer ")
    project_id = await api.project("Streams")
    wait = {"id": "approve", "type": "wait_for_signal", "config": {"signal": "go"}}
    workflow_id = await api.workflow(project_id, "Waits", _chain(wait))
    execution_id = await api.build(workflow_id, {})
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))

    await page.goto(f"/workflows/{workflow_id}?run={execution_id}")
    await expect(page.get_by_text("Live: updates stream from the server.")).to_be_visible()
    streams = [u for u in urls if f"/api/executions/{execution_id}/events" in u]
    assert streams and all("ticket=" in u for u in streams), streams
    assert not [u for u in urls if token in u or "access_token" in u]
    await api.call("POST", f"/api/executions/{execution_id}/cancel", 202)
