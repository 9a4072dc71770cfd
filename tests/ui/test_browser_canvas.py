"""Canvas ergonomics, errors where they belong and safe editing, in a real Chromium against a
live runloom: "+" on an edge inserts a connected node and "+" on a free output adds one
after it; auto-layout moves overlapping nodes apart; a compile problem shows under its
field in a person's words, and clicking it centres its node without zooming; the
navigation guard stops a sidebar click with unsaved changes; Check never saves, and the
draft kept in the browser comes back after a reload."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.ui.helpers import Api, create_project, create_workflow, node, screenshot, sign_up

pytestmark = pytest.mark.browser


async def open_workflow(page: Page, live_server: str, graph: dict[str, Any]) -> tuple[Api, str]:
    """A workflow made over the API with `graph`, opened in the builder."""
    await sign_up(page)
    api = await Api.of(page, live_server)
    project_id = await api.project("Canvas")
    workflow_id = await api.workflow(project_id, "Drawn", graph)
    await page.goto(f"/workflows/{workflow_id}")
    await expect(page.get_by_role("heading", name="Drawn", level=1)).to_be_visible()
    return api, workflow_id


async def saved_graph(api: Api, workflow_id: str) -> dict[str, Any]:
    return dict((await api.call("GET", f"/api/workflows/{workflow_id}"))["workflow"]["graph"])


def edge_pairs(graph: dict[str, Any]) -> set[tuple[str, str, str | None]]:
    return {(e["source"], e["target"], e.get("branch")) for e in graph["edges"]}


async def zoom(page: Page) -> float:
    transform = await page.locator(".react-flow__viewport").evaluate("e => e.style.transform")
    match = re.search(r"scale\(([\d.]+)\)", str(transform))
    assert match, transform
    return float(match.group(1))


async def eventually(check: Any, within_s: float = 5.0) -> None:
    """Waits until the async predicate `check` holds (animations, layout)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not await check():
        assert loop.time() < deadline, "condition never held"
        await asyncio.sleep(0.1)


async def settled(read: Any) -> Any:
    """What `read()` gives once two reads a frame apart agree (the view stopped moving)."""
    previous = None
    for _ in range(100):
        current = await read()
        if current == previous:
            return current
        previous = current
        await asyncio.sleep(0.05)
    raise AssertionError(f"never settled: {previous}")


async def test_plus_on_an_edge_and_on_an_output_adds_connected_nodes(page: Page) -> None:
    await sign_up(page)
    project_id = await create_project(page, "Plus")
    workflow_id = await create_workflow(page, project_id, "Inserted")
    panel = page.get_by_role("complementary", name="Side panel")

    # The starter's start → end edge has a "+": a Transform goes in between.
    await page.get_by_role("button", name="Insert a step between start and end").click()
    menu = page.get_by_role("menu", name="Insert a step on this edge")
    await expect(menu.get_by_role("menuitem").first).to_be_focused()
    await menu.get_by_role("menuitem", name="Transform").click()
    await expect(menu).to_be_hidden()
    await expect(node(page, "transform_1")).to_be_visible()
    await expect(panel.get_by_label("Node id")).to_have_value("transform_1")
    await expect(
        page.get_by_role("button", name="Insert a step between start and transform_1")
    ).to_be_visible()
    await expect(
        page.get_by_role("button", name="Insert a step between transform_1 and end")
    ).to_be_visible()
    await expect(
        page.get_by_role("button", name="Insert a step between start and end")
    ).to_have_count(0)
    # The new node is below start and above end, and on neither.
    start, added, end = [
        await node(page, n).bounding_box() for n in ("start", "transform_1", "end")
    ]
    assert start and added and end
    assert start["y"] + start["height"] < added["y"] < added["y"] + added["height"] < end["y"]

    # A condition on the new edge: its true output continues, its free false output has a "+".
    await page.get_by_role("button", name="Insert a step between transform_1 and end").click()
    await page.get_by_role("menu").get_by_role("menuitem", name="Condition").click()
    await expect(node(page, "condition_1")).to_be_visible()
    plus = page.get_by_role("button", name="Add a step after condition_1 (false)")
    await plus.click()
    menu = page.get_by_role("menu", name="Add a step after condition_1")
    await page.keyboard.press("Escape")
    await expect(menu).to_be_hidden()
    await expect(plus).to_be_focused()
    await plus.press("Enter")
    await menu.get_by_role("menuitem", name="Delay").click()
    await expect(node(page, "delay_1")).to_be_visible()
    await expect(
        page.get_by_role("button", name="Add a step after condition_1 (false)")
    ).to_have_count(0)
    await screenshot(page, "canvas-01-plus")

    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page.get_by_text("Saved", exact=True)).to_be_visible()
    api = await Api.of(page, page.url.split("/workflows/")[0])
    graph = await saved_graph(api, workflow_id)
    assert edge_pairs(graph) == {
        ("start", "transform_1", None),
        ("transform_1", "condition_1", None),
        ("condition_1", "end", "true"),
        ("condition_1", "delay_1", "false"),
    }


async def test_palette_node_is_connected_after_the_selected_node(page: Page) -> None:
    await sign_up(page)
    project_id = await create_project(page, "Palette")
    await create_workflow(page, project_id, "Chained")
    await node(page, "end").click()
    await page.get_by_role("button", name="Insert a step between start and end").click()
    await page.get_by_role("menu").get_by_role("menuitem", name="Python").click()
    # python_1 is selected: the next palette click connects the new step after it (a second
    # branch, since its output already leads to end), never alone.
    await page.get_by_role("button", name="Add Delay", exact=True).click()
    panel = page.get_by_role("complementary", name="Side panel")
    await expect(panel.get_by_label("Node id")).to_have_value("delay_1")
    await node(page, "python_1").click()
    await expect(panel.get_by_role("button", name="Remove edge python_1 → delay_1")).to_be_visible()
    # Nothing selected: the node lands in view, right of the palette, off the edges.
    await page.locator(".react-flow__pane").click(position={"x": 5, "y": 5})
    await page.get_by_role("button", name="Add Transform", exact=True).click()
    box = await settled(node(page, "transform_1").bounding_box)
    canvas = await page.locator(".react-flow").bounding_box()
    palette = await page.get_by_role("complementary", name="Node palette").bounding_box()
    assert box and canvas and palette
    assert box["x"] >= palette["x"] + palette["width"]
    assert canvas["x"] <= box["x"] and box["x"] + box["width"] <= canvas["x"] + canvas["width"]


async def test_auto_layout_moves_overlapping_nodes_apart(page: Page, live_server: str) -> None:
    def at(i: int) -> dict[str, int]:
        return {"x": 10 * i, "y": 15 * i}

    graph = {
        "nodes": [
            {"id": "start", "type": "start", "position": at(0)},
            {"id": "a", "type": "transform", "position": at(1), "config": {"output": 1}},
            {"id": "b", "type": "transform", "position": at(2), "config": {"output": 2}},
            {"id": "end", "type": "end", "position": at(3)},
        ],
        "edges": [
            {"source": "start", "target": "a"},
            {"source": "start", "target": "b"},
            {"source": "a", "target": "end"},
            {"source": "b", "target": "end"},
        ],
    }
    api, workflow_id = await open_workflow(page, live_server, graph)
    ids = ["start", "a", "b", "end"]

    async def boxes() -> dict[str, Any]:
        return {i: await node(page, i).bounding_box() for i in ids}

    def overlapping(b: dict[str, Any]) -> bool:
        return any(
            abs(b[x]["x"] - b[y]["x"]) < b[x]["width"]
            and abs(b[x]["y"] - b[y]["y"]) < b[x]["height"]
            for x in ids
            for y in ids
            if x < y
        )

    assert overlapping(await boxes())
    await page.get_by_role("button", name="Auto-layout").click()

    async def apart() -> bool:
        return not overlapping(await boxes())

    await eventually(apart)
    b = await settled(boxes)
    assert b["a"]["y"] == pytest.approx(b["b"]["y"], abs=1)
    assert b["start"]["y"] < b["a"]["y"] < b["end"]["y"]
    # Readable: fit view never goes below the minimum zoom.
    assert await zoom(page) >= 0.9
    await screenshot(page, "canvas-02-auto-layout")
    # Undo puts them back; the layout is saved like any change.
    await page.keyboard.press("Control+z")
    await eventually(lambda: _overlapping_again(page, ids, overlapping))
    await page.keyboard.press("Shift+L")
    await eventually(apart)
    await page.keyboard.press("Control+s")
    await expect(page.get_by_text("Saved", exact=True)).to_be_visible()
    positions = {n["id"]: n["position"] for n in (await saved_graph(api, workflow_id))["nodes"]}
    assert positions["a"]["y"] == positions["b"]["y"] > positions["start"]["y"]


async def _overlapping_again(page: Page, ids: list[str], overlapping: Any) -> bool:
    return bool(overlapping({i: await node(page, i).bounding_box() for i in ids}))


async def test_problem_under_its_field_and_click_centres_node(page: Page, live_server: str) -> None:
    graph = {
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}},
            {
                "id": "fetch",
                "type": "http_request",
                "position": {"x": 1400, "y": 1300},
                "config": {"method": "GET", "url": ""},
            },
            {"id": "end", "type": "end", "position": {"x": 0, "y": 2600}},
        ],
        "edges": [{"source": "start", "target": "fetch"}, {"source": "fetch", "target": "end"}],
    }
    api, workflow_id = await open_workflow(page, live_server, graph)
    before = await settled(lambda: zoom(page))
    assert before >= 0.9  # too big to fit: the view scrolls rather than shrink the text

    await page.get_by_role("button", name="Check", exact=True).click()
    problems = page.get_by_role("region", name="Problems")
    await expect(problems.locator(".problem-text")).to_have_text("URL is required")
    original = problems.get_by_text("String should have at least 1 character")
    await expect(original).to_be_hidden()
    # Docked: under the canvas, not over it.
    dock = await problems.bounding_box()
    canvas = await page.locator(".react-flow").bounding_box()
    assert dock and canvas and dock["y"] >= canvas["y"] + canvas["height"] - 1

    # The compiler's own words stay available.
    await problems.get_by_text("Compiler’s words").click()
    await expect(original).to_be_visible()

    await problems.get_by_role("button", name="fetch").click()
    panel = page.get_by_role("complementary", name="Side panel")
    url = panel.get_by_label("URL")
    await expect(url).to_have_attribute("aria-describedby", re.compile("field-fetch-url-problems"))
    field = panel.locator(".field", has=page.get_by_label("URL"))
    await expect(field.locator(".field-problem")).to_have_text("URL is required")
    await expect(node(page, "fetch")).to_have_attribute("data-problem", "true")
    await expect(node(page, "fetch").get_by_role("note")).to_contain_text("URL is required")

    async def centred() -> bool:
        box = await node(page, "fetch").bounding_box()
        view = await page.locator(".react-flow").bounding_box()
        if not box or not view:
            return False
        dx = box["x"] + box["width"] / 2 - (view["x"] + view["width"] / 2)
        dy = box["y"] + box["height"] / 2 - (view["y"] + view["height"] / 2)
        return abs(dx) < 8 and abs(dy) < 8

    await eventually(centred)
    # Read once the move has ended: d3's smooth pan zooms out a little on the way.
    assert await settled(lambda: zoom(page)) == pytest.approx(before, abs=0.001)
    await screenshot(page, "canvas-03-problem-under-field")

    # Fixed and checked again: the marks go, and nothing was saved by Check.
    await url.fill("http://127.0.0.1:9/x")
    await page.get_by_role("button", name="Check", exact=True).click()
    await expect(page.get_by_text("No problems: the workflow compiles.")).to_be_visible()
    await expect(problems).to_be_hidden()
    stored = await saved_graph(api, workflow_id)
    assert next(n for n in stored["nodes"] if n["id"] == "fetch")["config"]["url"] == ""


async def test_check_never_saves_and_the_draft_survives_a_reload(
    page: Page, live_server: str
) -> None:
    graph = {
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}},
            {"id": "end", "type": "end", "position": {"x": 0, "y": 260}},
        ],
        "edges": [{"source": "start", "target": "end"}],
    }
    api, workflow_id = await open_workflow(page, live_server, graph)
    await page.get_by_role("button", name="Insert a step between start and end").click()
    await page.get_by_role("menu").get_by_role("menuitem", name="HTTP request").click()
    await expect(node(page, "http_request_1")).to_be_visible()
    await page.get_by_role("button", name="Check", exact=True).click()
    await expect(page.get_by_role("region", name="Problems")).to_contain_text("URL is required")
    await expect(page.get_by_text("Unsaved changes")).to_be_visible()
    await expect(page.get_by_text("Draft saved locally")).to_be_visible()
    assert await saved_graph(api, workflow_id) == graph

    # The server still has the saved graph; the draft comes back from this browser.
    await page.reload()
    await expect(node(page, "http_request_1")).to_be_visible()
    await expect(
        page.get_by_role("status").filter(has_text="Restored your unsaved draft")
    ).to_be_visible()
    await expect(page.get_by_text("Unsaved changes")).to_be_visible()
    await page.get_by_role("button", name="Undo").click()
    await expect(node(page, "http_request_1")).to_have_count(0)
    await expect(page.get_by_text("Saved", exact=True)).to_be_visible()
    # Back at the saved graph, the draft is dropped: a reload shows the saved graph alone.
    await page.reload()
    await expect(node(page, "end")).to_be_visible()
    await expect(node(page, "http_request_1")).to_have_count(0)
    await expect(page.get_by_text("Restored your unsaved draft")).to_have_count(0)


async def test_navigation_guard_stops_a_sidebar_click_with_unsaved_changes(
    page: Page, live_server: str
) -> None:
    await sign_up(page)
    project_id = await create_project(page, "Guarded")
    workflow_id = await create_workflow(page, project_id, "Careful")
    builder_url = page.url
    await page.get_by_role("button", name="Add Delay", exact=True).click()
    await expect(node(page, "delay_1")).to_be_visible()

    sidebar = page.get_by_role("complementary", name="Main navigation")
    await sidebar.get_by_role("link", name="Projects").click()
    dialog = page.get_by_role("dialog", name="Unsaved changes")
    await expect(dialog).to_be_visible()
    await screenshot(page, "canvas-04-navigation-guard")
    await dialog.get_by_role("button", name="Stay").click()
    await expect(dialog).to_be_hidden()
    assert page.url == builder_url
    await expect(node(page, "delay_1")).to_be_visible()

    # Save and leave, from the breadcrumbs: saved, then gone.
    await (
        page.get_by_role("navigation", name="Breadcrumbs")
        .get_by_role("link", name="Projects")
        .click()
    )
    await dialog.get_by_role("button", name="Save and leave").click()
    await expect(page).to_have_url(re.compile(r"/projects$"))
    api = await Api.of(page, live_server)
    assert "delay_1" in {n["id"] for n in (await saved_graph(api, workflow_id))["nodes"]}

    # Discard: leaves without saving, and the local draft goes too.
    await page.goto(f"/workflows/{workflow_id}")
    await node(page, "delay_1").click()
    await page.keyboard.press("Delete")
    await expect(node(page, "delay_1")).to_have_count(0)
    await sidebar.get_by_role("link", name="Runs").click()
    await dialog.get_by_role("button", name="Discard changes").click()
    await expect(page).to_have_url(re.compile(r"/runs$"))
    await page.goto(f"/workflows/{workflow_id}")
    await expect(node(page, "delay_1")).to_be_visible()
    await expect(page.get_by_text("Saved", exact=True)).to_be_visible()


async def test_shortcuts_help_and_focus_rings(page: Page) -> None:
    await sign_up(page)
    project_id = await create_project(page, "Keys")
    await create_workflow(page, project_id, "Shortcuts")
    await page.locator(".react-flow__pane").click(position={"x": 5, "y": 5})
    await page.keyboard.press("?")
    help_ = page.get_by_role("dialog", name="Keyboard shortcuts")
    await expect(help_).to_contain_text("Undo")
    await expect(help_).to_contain_text("Auto-layout")
    await page.keyboard.press("Escape")
    await expect(help_).to_be_hidden()
    await page.get_by_role("button", name="Keyboard shortcuts").click()
    await expect(help_).to_be_visible()
    await page.get_by_role("button", name="Keyboard shortcuts").click()
    await expect(help_).to_be_hidden()

    # A node focused from the keyboard shows a ring.
    await page.get_by_role("button", name="Keyboard shortcuts").focus()
    focused = page.locator(".react-flow__node:focus-visible .step-node")
    for _ in range(40):
        await page.keyboard.press("Tab")
        if await focused.count() == 1:
            break
    await expect(focused).to_have_count(1)
    outline = await focused.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline == "solid"


async def test_a_run_highlights_its_path_and_dims_the_branch_not_taken(
    page: Page, live_server: str
) -> None:
    def at(x: int, y: int) -> dict[str, int]:
        return {"x": x, "y": y}

    graph = {
        "nodes": [
            {"id": "start", "type": "start", "position": at(0, 0)},
            {
                "id": "c",
                "type": "condition",
                "position": at(0, 140),
                "config": {"expression": "input.go"},
            },
            {"id": "yes", "type": "transform", "position": at(-160, 300), "config": {"output": 1}},
            {"id": "no", "type": "transform", "position": at(160, 300), "config": {"output": 2}},
            {
                "id": "end",
                "type": "end",
                "position": at(0, 460),
                "config": {"output": "{{ steps }}"},
            },
        ],
        "edges": [
            {"source": "start", "target": "c"},
            {"source": "c", "target": "yes", "branch": "true"},
            {"source": "c", "target": "no", "branch": "false"},
            {"source": "yes", "target": "end"},
            {"source": "no", "target": "end"},
        ],
    }
    api, workflow_id = await open_workflow(page, live_server, graph)
    execution_id = await api.build(workflow_id, {"go": True})
    await api.wait_ended(execution_id)
    await page.goto(f"/workflows/{workflow_id}?run={execution_id}")
    await expect(node(page, "end")).to_have_attribute("data-run-status", "completed")
    true_edge = page.locator(".react-flow__edge.edge-true")
    false_edge = page.locator(".react-flow__edge.edge-false")
    await expect(true_edge).to_have_class(re.compile(r"\bedge-taken\b"))
    await expect(false_edge).to_have_class(re.compile(r"\bedge-untaken\b"))
    # The false branch is no longer red: grey and dimmed, like the step it did not reach.
    stroke = await false_edge.locator(".react-flow__edge-path").evaluate(
        "e => getComputedStyle(e).stroke"
    )
    assert stroke == "rgb(203, 213, 225)", stroke
    await expect(node(page, "no")).to_have_attribute("data-run-status", re.compile("^(skipped|)$"))
    opacity = await node(page, "no").evaluate("e => getComputedStyle(e).opacity")
    assert float(opacity) < 0.75
    await screenshot(page, "canvas-05-run-path")
