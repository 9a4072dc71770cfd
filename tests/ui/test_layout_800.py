"""The UI at 800 px wide, in a real Chromium against a live runloom: no page scrolls
sideways, the sidebar starts collapsed (a toggle with aria-expanded opens it, and a wide
window remembers the choice), and the builder's canvas keeps at least 400 px of width, with
the side panel showing a Condition node and a run."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.ui.helpers import RUN_TIMEOUT, Api, expect_run_status, node, screenshot, sign_up
from tests.ui.test_accessibility import small_graph

pytestmark = pytest.mark.browser

NARROW = {"width": 800, "height": 900}


async def overflow(page: Page) -> dict[str, Any]:
    """The page's scroll width against its width, and the widest element past the edge."""
    return dict(
        await page.evaluate(
            """() => {
              const s = document.scrollingElement;
              let widest = null;
              for (const e of document.querySelectorAll('body *')) {
                const r = e.getBoundingClientRect();
                if (r.right > s.clientWidth + 1 && (!widest || r.right > widest.right))
                  widest = {right: r.right, what: e.tagName + '.' + e.className};
              }
              return {scrollWidth: s.scrollWidth, clientWidth: s.clientWidth, widest};
            }"""
        )
    )


async def assert_no_horizontal_overflow(page: Page, where: str) -> None:
    # Let late layout (charts, the canvas's fit view) settle first.
    await page.wait_for_timeout(150)
    o = await overflow(page)
    assert o["scrollWidth"] <= o["clientWidth"], f"{where} scrolls sideways at 800 px: {o}"


async def canvas_width(page: Page) -> float:
    box = await page.get_by_role("region", name="Workflow canvas").bounding_box()
    assert box is not None
    return float(box["width"])


async def test_every_page_fits_800_px(page: Page, live_server: str) -> None:
    await page.set_viewport_size(NARROW)
    for path in ("/login", "/signup"):
        await page.goto(path)
        await expect(page.get_by_label("Email")).to_be_visible()
        await assert_no_horizontal_overflow(page, path)

    await sign_up(page)
    api = await Api.of(page, live_server)
    project_id = await api.project("Narrow windows and a rather long project name")
    workflow_id = await api.workflow(project_id, "Fits at 800 px", small_graph())
    execution_id = await api.build(workflow_id, {"name": "Ada"})
    ended = await api.wait_ended(execution_id, within_s=RUN_TIMEOUT / 1000)
    assert ended["status"] == "completed", ended

    # The sidebar starts collapsed on a narrow window; its labels stay for screen readers.
    await page.goto("/projects")
    sidebar = page.get_by_role("complementary", name="Main navigation")
    toggle = sidebar.get_by_role("button", name="Sidebar")
    await expect(toggle).to_have_attribute("aria-expanded", "false")
    await expect(sidebar.get_by_role("link", name="Projects")).to_be_visible()
    collapsed = await sidebar.bounding_box()
    assert collapsed and collapsed["width"] <= 64, collapsed

    pages = {
        "/projects": page.get_by_role("heading", name="Projects", level=1),
        f"/projects/{project_id}": page.get_by_role("table", name="Workflows"),
        f"/projects/{project_id}/stats": page.get_by_role("heading", level=1),
        "/workflows": page.get_by_role("heading", level=1),
        f"/workflows/new?project_id={project_id}": page.get_by_label("Workflow name"),
        f"/workflows/{workflow_id}/runs": page.get_by_role("table", name="Runs"),
        "/runs": page.get_by_role("table", name="Runs"),
        f"/workflows/{workflow_id}/versions": page.get_by_role("table", name="Versions"),
        "/api-keys": page.get_by_role("heading", name="API keys", level=1),
    }
    for path, ready in pages.items():
        await page.goto(path)
        await expect(ready.first).to_be_visible()
        await assert_no_horizontal_overflow(page, path)

    # The Runs table scrolls inside its card: its last column is reachable, not clipped.
    await page.goto(f"/workflows/{workflow_id}/runs")
    table = page.get_by_role("table", name="Runs")
    await expect(table.get_by_role("link", name="Open run").first).to_be_visible()
    scroller = page.locator(".table-scroll", has=table)
    card = await scroller.bounding_box()
    assert card and card["x"] + card["width"] <= NARROW["width"]

    # The builder: the canvas keeps at least 400 px, with a Condition node in the side panel.
    await page.goto(f"/workflows/{workflow_id}")
    await expect(node(page, "branch")).to_be_visible()
    assert await canvas_width(page) >= 400
    await assert_no_horizontal_overflow(page, "the builder")
    await node(page, "branch").click()
    panel = page.get_by_role("complementary", name="Side panel")
    await expect(panel.get_by_label("Node id")).to_have_value("branch")
    await assert_no_horizontal_overflow(page, "the builder with a Condition node")
    scroll = await panel.locator(".side-panel-body").evaluate(
        "e => ({scrollWidth: e.scrollWidth, clientWidth: e.clientWidth})"
    )
    assert scroll["scrollWidth"] <= scroll["clientWidth"], scroll
    assert await canvas_width(page) >= 400
    await screenshot(page, "layout-800-builder-condition")

    # The palette collapses and expands; collapsed, the canvas grows.
    palette = page.get_by_role("complementary", name="Node palette")
    palette_toggle = palette.get_by_role("button", name="Palette labels")
    await expect(palette_toggle).to_have_attribute("aria-expanded", "false")
    await expect(palette.get_by_role("button", name="Add Python")).to_be_visible()
    await palette_toggle.click()
    await expect(palette_toggle).to_have_attribute("aria-expanded", "true")
    await palette_toggle.click()
    await expect(palette_toggle).to_have_attribute("aria-expanded", "false")

    # The side panel hides to a strip and comes back.
    before = await canvas_width(page)
    panel_toggle = panel.get_by_role("button", name="Show side panel")
    await panel_toggle.click()
    await expect(panel_toggle).to_have_attribute("aria-expanded", "false")
    await expect(panel.get_by_label("Node id")).to_be_hidden()
    assert await canvas_width(page) > before + 150
    await panel_toggle.click()
    await expect(panel.get_by_label("Node id")).to_have_value("branch")

    # A run view fits too.
    await page.goto(f"/workflows/{workflow_id}?run={execution_id}")
    await expect_run_status(page, "completed")
    assert await canvas_width(page) >= 400
    await assert_no_horizontal_overflow(page, "a run view")


async def _width(locator: Any) -> float:
    box = await locator.bounding_box()
    return float(box["width"]) if box else 0.0


async def test_the_sidebar_toggle_is_remembered_on_a_wide_window(
    browser: Browser, page: Page, live_server: str
) -> None:
    await sign_up(page)
    sidebar = page.get_by_role("complementary", name="Main navigation")
    toggle = sidebar.get_by_role("button", name="Sidebar")
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    wide = await sidebar.bounding_box()
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-expanded", "false")
    assert wide
    # Measured once its width transition ended.
    for _ in range(50):
        if await _width(sidebar) < wide["width"] - 80:
            break
        await page.wait_for_timeout(50)
    assert await _width(sidebar) < wide["width"] - 80
    # The links keep their names, and the choice survives a reload.
    await expect(sidebar.get_by_role("link", name="Workflows")).to_be_visible()
    await page.reload()
    await expect(toggle).to_have_attribute("aria-expanded", "false")
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    await page.reload()
    await expect(toggle).to_have_attribute("aria-expanded", "true")
