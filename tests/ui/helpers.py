"""Steps the browser tests share: sign up, create things, draw on the canvas, build."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from playwright.async_api import FloatRect, Locator, Page, expect

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
PASSWORD = "correct horse battery"


async def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def new_email() -> str:
    return f"ui-{uuid.uuid4().hex[:10]}@example.test"


async def sign_up(page: Page, email: str | None = None) -> str:
    email = email or new_email()
    await page.goto("/signup")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign up").click()
    await expect(page).to_have_url(re.compile(r"/projects$"))
    return email


async def create_project(page: Page, name: str) -> str:
    """From the projects page: create a project; returns its id (the page shows it)."""
    await page.goto("/projects")
    await page.get_by_role("button", name="New project").first.click()
    dialog = page.get_by_role("dialog", name="New project")
    await dialog.get_by_label("Project name").fill(name)
    await dialog.get_by_role("button", name="Create project").click()
    await expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    match = re.search(r"/projects/([^/?#]+)", page.url)
    assert match, page.url
    return match.group(1)


async def create_workflow(page: Page, project_id: str, name: str) -> str:
    await page.goto(f"/workflows/new?project_id={project_id}")
    await page.get_by_label("Workflow name").fill(name)
    await page.get_by_role("button", name="Create and open builder").click()
    await expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    match = re.search(r"/workflows/([^/?#]+)", page.url)
    assert match, page.url
    return match.group(1)


def node(page: Page, node_id: str) -> Locator:
    return page.get_by_role("group", name=f"Node {node_id}", exact=True)


async def add_from_palette(page: Page, label: str) -> None:
    await page.get_by_role("button", name=f"Add {label}", exact=True).click()


async def connect(page: Page, source: str, target: str, *, handle: str | None = None) -> None:
    """Draw an edge with the mouse, from a source handle to the target's input handle."""
    selector = f'.react-flow__node[data-id="{source}"] .react-flow__handle.source'
    if handle is not None:
        selector += f'[data-handleid="{handle}"]'
    src = page.locator(selector)
    dst = page.locator(f'.react-flow__node[data-id="{target}"] .react-flow__handle.target')
    # The canvas may still be settling (fit view, a node just renamed and re-measured):
    # a drag aimed at where a handle was a frame ago ends beside it and draws nothing.
    a = await _settled_box(page, src)
    b = await _settled_box(page, dst)
    await page.mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2, steps=4)
    await page.mouse.down()
    await page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=12)
    await page.mouse.up()


async def _settled_box(page: Page, locator: Locator) -> FloatRect:
    """The element's box once it stayed the same over two animation frames."""
    previous = None
    for _ in range(120):
        box = await locator.bounding_box()
        if box is not None and box == previous:
            return box
        previous = box
        await page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
    raise AssertionError(f"{locator} never settled on screen (last box: {previous})")


async def build_and_run(page: Page, input_json: str = "{}") -> None:
    await page.get_by_role("button", name="Build", exact=True).click()
    dialog = page.get_by_role("dialog", name="Build and run")
    await dialog.get_by_label("Run input (JSON)").fill(input_json)
    await dialog.get_by_role("button", name="Build and run").click()
