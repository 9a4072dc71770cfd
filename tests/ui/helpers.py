"""Steps the browser tests share: sign up, create things, draw on the canvas, build."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Dialog, FloatRect, Locator, Page, expect

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


RUN_TIMEOUT = 90_000  # the first build of a project starts its worker


async def expect_run_status(page: Page, status: str) -> None:
    """The builder's run panel shows the run in `status`."""
    badge = page.get_by_role("complementary", name="Side panel").locator("[data-execution-status]")
    await expect(badge).to_have_attribute("data-execution-status", status, timeout=RUN_TIMEOUT)


def accept_dialogs(page: Page) -> None:
    """Answer OK to every confirm() from now on."""

    async def accept(dialog: Dialog) -> None:
        await dialog.accept()

    page.on("dialog", accept)


async def confirm_in_page(page: Page, title: str, button: str) -> None:
    """Answer the in-app confirmation dialog (not a window.confirm()) by its button."""
    dialog = page.get_by_role("dialog", name=title)
    await dialog.get_by_role("button", name=button, exact=True).click()
    await expect(dialog).to_be_hidden()


async def session_token(page: Page) -> str:
    """The signed-in user's bearer token, as the UI keeps it."""
    token = await page.evaluate("localStorage.getItem('runloom.token')")
    assert isinstance(token, str) and token, "not signed in"
    return token


async def page_text(page: Page) -> str:
    """Everything the page shows and holds: its text, its HTML and the values of its fields."""
    values = await page.evaluate(
        "() => [...document.querySelectorAll('input, textarea')].map(e => e.value).join('\\n')"
    )
    return "\n".join([await page.locator("body").inner_text(), await page.content(), values])


class Api:
    """The HTTP API as the signed-in browser user (their bearer token), for setting up
    what a test then looks at in the browser."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"}

    @classmethod
    async def of(cls, page: Page, base_url: str) -> Api:
        return cls(base_url, await session_token(page))

    async def call(self, method: str, path: str, status: int = 200, *, json: object = None) -> Any:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30) as client:
            r = await client.request(method, path, json=json, headers=self.headers)
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    async def project(self, name: str) -> str:
        created = await self.call("POST", "/api/projects", 201, json={"name": name})
        return str(created["project"]["id"])

    async def workflow(self, project_id: str, name: str, graph: dict[str, Any]) -> str:
        body = {"project_id": project_id, "name": name, "graph": graph}
        created = await self.call("POST", "/api/workflows", 201, json=body)
        return str(created.get("workflow", created)["id"])

    async def build(self, workflow_id: str, run_input: dict[str, Any]) -> str:
        """Compile, store and start a run; the execution id."""
        built = await self.call(
            "POST", f"/api/workflows/{workflow_id}/build", 201, json={"input": run_input}
        )
        return str(built["execution_id"])

    async def start(self, workflow_id: str, run_input: dict[str, Any]) -> str:
        """Start a run of the active version; the execution id."""
        started = await self.call(
            "POST", f"/api/workflows/{workflow_id}/executions", 201, json={"input": run_input}
        )
        return str(started["execution"]["id"])

    async def execution(self, execution_id: str) -> dict[str, Any]:
        return dict((await self.call("GET", f"/api/executions/{execution_id}"))["execution"])

    async def wait_ended(self, execution_id: str, within_s: float = 90) -> dict[str, Any]:
        deadline = time.monotonic() + within_s
        while True:
            e = await self.execution(execution_id)
            if e["status"] not in ("pending", "running"):
                return e
            assert time.monotonic() < deadline, f"run {execution_id} still {e['status']}"
            await asyncio.sleep(0.3)
