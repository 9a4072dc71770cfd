"""The seed's manual testing plan, walked through the web UI in a real Chromium.

Every test signs up a fresh user against `live_server` (real API, manager, Postgres and
Temporal), so they do not depend on each other or on their order.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.ui.helpers import (
    PASSWORD,
    add_from_palette,
    build_and_run,
    connect,
    create_project,
    create_workflow,
    node,
    screenshot,
    sign_up,
)

pytestmark = pytest.mark.browser

RUN_TIMEOUT = 90_000  # first build of a project starts its worker


async def draw_greeting_workflow(page: Page) -> None:
    """start → greet (python) → end, drawn on the canvas of the starter graph (start → end)."""
    # The starter graph wires start straight to end: remove that edge from start's panel.
    await node(page, "start").click()
    await page.get_by_role("button", name="Remove edge start → end").click()

    # Drag a Python step from the palette onto the canvas.
    canvas = page.get_by_role("region", name="Workflow canvas")
    box = await canvas.bounding_box()
    assert box
    await page.get_by_role("button", name="Add Python", exact=True).drag_to(
        canvas, target_position={"x": box["width"] - 150, "y": box["height"] / 2}
    )
    await expect(node(page, "python_1")).to_be_visible()
    panel = page.get_by_role("complementary", name="Side panel")
    await panel.get_by_label("Node id").fill("greet")
    await panel.get_by_label("Node id").press("Enter")
    await expect(node(page, "greet")).to_be_visible()
    code = panel.get_by_label("Code")
    await code.fill('return {"greeting": "hello " + input["name"]}')
    # The template help names what this step can see.
    await expect(panel.get_by_label("Template help")).to_contain_text("input.field")

    # start → greet with the mouse, greet → end from the side panel.
    await page.get_by_role("button", name="Fit View").click()
    await connect(page, "start", "greet")
    await node(page, "greet").click()
    await expect(panel.get_by_text("None yet: this step leads nowhere.")).to_be_visible()
    await panel.get_by_label("Connect to").select_option("end")
    await panel.get_by_role("button", name="Add edge").click()
    await expect(panel.get_by_role("button", name="Remove edge greet → end")).to_be_visible()
    await node(page, "start").click()
    await expect(panel.get_by_role("button", name="Remove edge start → greet")).to_be_visible()

    # The end returns what greet produced.
    await node(page, "end").click()
    await panel.get_by_label("Output").fill("{{ steps.greet }}")
    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page.get_by_text("Saved", exact=True)).to_be_visible()


async def expect_run_status(page: Page, status: str) -> None:
    badge = page.get_by_role("complementary", name="Side panel").locator("[data-execution-status]")
    await expect(badge).to_have_attribute("data-execution-status", status, timeout=RUN_TIMEOUT)


async def wait_completed(page: Page, node_ids: list[str]) -> None:
    await expect_run_status(page, "completed")
    for node_id in node_ids:
        await expect(node(page, node_id)).to_have_attribute("data-run-status", "completed")


async def test_seed_manual_testing_plan(page: Page) -> None:
    email = await sign_up(page)
    # Every account starts with a default project (the seed migrates workflows into one).
    await expect(page.get_by_role("listitem", name=re.compile("^Project "))).to_have_count(1)
    await screenshot(page, "01-projects-first")

    # 1. Create a project.
    project_id = await create_project(page, "Orders")
    await expect(page.get_by_text("No workflows in this project")).to_be_visible()

    # 2. Create a workflow in that project: the project and its task queue are preselected.
    await page.get_by_role("main").get_by_role("link", name="New workflow").click()
    await expect(page).to_have_url(re.compile(r"/workflows/new"))
    await expect(page.get_by_label("Project", exact=True)).to_have_value(project_id)
    queue = page.get_by_label("Task queue")
    await expect(queue).to_have_value(re.compile(rf"-{project_id}$"))
    await expect(queue).to_have_attribute("readonly", "")
    await page.get_by_label("Workflow name").fill("Greet")
    await screenshot(page, "02-new-workflow")
    await page.get_by_role("button", name="Create and open builder").click()
    await expect(page.get_by_role("heading", name="Greet", level=1)).to_be_visible()
    await expect(node(page, "start")).to_be_visible()
    await expect(node(page, "end")).to_be_visible()
    await draw_greeting_workflow(page)
    await screenshot(page, "03-builder")

    # 3-4. Build (compile + store + worker) and execute; the nodes light up as they complete.
    await build_and_run(page, '{"name": "Ada"}')
    await expect(page).to_have_url(re.compile(r"\?run="))
    await wait_completed(page, ["start", "greet", "end"])
    panel = page.get_by_role("complementary", name="Side panel")
    await expect(panel.get_by_label("Run output")).to_contain_text("hello Ada")
    await expect(panel.get_by_label("Run input")).to_contain_text('"name": "Ada"')
    await expect(panel.get_by_text("v1", exact=True)).to_be_visible()
    # 5. The run opens in the Temporal Web UI.
    temporal = panel.get_by_role("link", name=re.compile("Open in Temporal Web UI"))
    await expect(temporal).to_have_attribute("href", re.compile(r"^https?://.+/workflows/"))
    await expect(page.get_by_role("button", name="Worker: running")).to_be_visible()
    await screenshot(page, "04-run-completed")

    # The run is listed with the workflow's past runs, and filters by status.
    await page.get_by_role("main").get_by_role("link", name="Runs", exact=True).click()
    runs = page.get_by_role("table", name="Runs")
    await expect(runs.get_by_text("completed")).to_be_visible()
    await page.get_by_role("button", name="failed", exact=True).click()
    await expect(page.get_by_text("No failed runs")).to_be_visible()
    await page.get_by_role("button", name="all", exact=True).click()
    await screenshot(page, "05-runs")
    await runs.get_by_role("link", name=re.compile("^Open run")).first.click()
    await expect(panel.get_by_label("Run output")).to_contain_text("hello Ada")

    # Versions: v1 is active, its generated code is shown.
    await page.get_by_role("main").get_by_role("link", name="Versions", exact=True).click()
    versions = page.get_by_role("table", name="Versions")
    await expect(versions.get_by_text("active")).to_be_visible()
    shown = page.get_by_role("region", name="v1", exact=True)
    await shown.get_by_role("tab", name="workflow.py").click()  # the graph comes first
    await expect(shown).to_contain_text("@workflow.defn")
    await screenshot(page, "06-versions")

    # 6. Statistics are recorded.
    await page.goto(f"/projects/{project_id}/stats")
    summary = page.get_by_role("region", name="Summary")
    await expect(summary).to_contain_text("100%", timeout=RUN_TIMEOUT)
    await expect(page.get_by_role("table", name="Workflow statistics")).to_contain_text("Greet")
    activities = page.get_by_role("table", name="Activity statistics")
    await expect(activities).to_contain_text("greet")
    await expect(page.get_by_role("region", name="Executions over time")).to_be_visible()
    await expect(page.get_by_role("region", name="Duration distribution")).to_be_visible()
    await screenshot(page, "07-stats")

    # 7. A second project works on its own: its own queue, worker and figures.
    second_id = await create_project(page, "Billing")
    await page.goto("/workflows/new")
    await page.get_by_label("Project", exact=True).select_option(second_id)
    await expect(page.get_by_label("Task queue")).to_have_value(re.compile(rf"-{second_id}$"))
    await page.get_by_label("Workflow name").fill("Echo")
    await page.get_by_role("button", name="Create and open builder").click()
    await expect(page.get_by_role("heading", name="Echo", level=1)).to_be_visible()
    await build_and_run(page, '{"invoice": 7}')
    await wait_completed(page, ["start", "end"])
    await expect(panel.get_by_label("Run output")).to_contain_text('"invoice": 7')

    await page.goto("/projects")
    orders = page.get_by_role("listitem", name="Project Orders")
    billing = page.get_by_role("listitem", name="Project Billing")
    await expect(orders).to_contain_text(project_id)
    await expect(billing).to_contain_text(second_id)
    for card in (orders, billing):
        await expect(card.get_by_role("img", name="Worker running")).to_be_visible()
        await expect(card.locator("dt:text('Workflows') + dd")).to_have_text("1")
        executions = card.locator("dt:text('Executions') + dd")
        await expect(executions).to_have_text("1", timeout=RUN_TIMEOUT)
    await screenshot(page, "08-projects")

    # The session survives a reload; signing out and in again works.
    await page.reload()
    await expect(orders).to_be_visible()
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/login"))
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await screenshot(page, "00-login")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("listitem", name="Project Billing")).to_be_visible()


async def test_compile_problem_shows_on_its_node(page: Page) -> None:
    await sign_up(page)
    project_id = await create_project(page, "Problems")
    await create_workflow(page, project_id, "Broken")
    await add_from_palette(page, "HTTP request")
    await expect(node(page, "http_request_1")).to_be_visible()
    panel = page.get_by_role("complementary", name="Side panel")
    # The URL is a one-line template editor (CodeMirror): empty, it shows its placeholder.
    await expect(panel.get_by_label("URL")).to_have_attribute("data-editor", "template")
    await expect(panel.get_by_label("URL").locator(".cm-placeholder")).to_be_visible()
    await node(page, "start").click()
    await panel.get_by_role("button", name="Remove edge start → end").click()
    await panel.get_by_label("Connect to").select_option("http_request_1")
    await panel.get_by_role("button", name="Add edge").click()
    await node(page, "http_request_1").click()
    await panel.get_by_label("Connect to").select_option("end")
    await panel.get_by_role("button", name="Add edge").click()

    await build_and_run(page)
    problems = page.get_by_role("region", name="Problems")
    await expect(problems).to_be_visible()
    await expect(problems.get_by_role("button", name="http_request_1")).to_be_visible()
    bad = node(page, "http_request_1")
    await expect(bad).to_have_attribute("data-problem", "true")
    await expect(bad.get_by_role("note")).to_contain_text(re.compile("url", re.IGNORECASE))
    await expect(node(page, "start")).to_have_attribute("data-problem", "false")
    await expect(page.get_by_role("alert").first).to_contain_text("problem")
    await screenshot(page, "09-compile-problem")

    # Fixing the field and checking again clears the marks.
    await bad.click()
    await panel.get_by_label("URL").fill("http://127.0.0.1:9/nothing")
    await page.get_by_role("button", name="Check", exact=True).click()
    await expect(page.get_by_text("No problems: the workflow compiles.")).to_be_visible()
    await expect(bad).to_have_attribute("data-problem", "false")
    await expect(problems).to_be_hidden()


async def test_failed_run_shows_error_on_failed_node(page: Page) -> None:
    await sign_up(page)
    project_id = await create_project(page, "Failing")
    await create_workflow(page, project_id, "Explode")
    panel = page.get_by_role("complementary", name="Side panel")
    await add_from_palette(page, "Python")
    await panel.get_by_label("Node id").fill("explode")
    await panel.get_by_label("Node id").press("Enter")
    await panel.get_by_label("Code").fill('raise ValueError("boom: no such order")')
    await node(page, "start").click()
    await panel.get_by_role("button", name="Remove edge start → end").click()
    await panel.get_by_label("Connect to").select_option("explode")
    await panel.get_by_role("button", name="Add edge").click()
    await node(page, "explode").click()
    await panel.get_by_label("Connect to").select_option("end")
    await panel.get_by_role("button", name="Add edge").click()

    await build_and_run(page)
    await expect_run_status(page, "failed")
    failed = node(page, "explode")
    await expect(failed).to_have_attribute("data-run-status", "failed")
    await expect(failed.get_by_role("note")).to_contain_text("boom")
    await expect(node(page, "start")).to_have_attribute("data-run-status", "completed")
    await expect(node(page, "end")).not_to_have_attribute("data-run-status", "completed")
    await expect(panel.get_by_role("alert", name="Run error")).to_contain_text("boom")
    await screenshot(page, "10-run-failed")

    await page.goto(f"/workflows/{page.url.split('/workflows/')[1].split('?')[0]}/runs")
    await page.get_by_role("button", name="failed", exact=True).click()
    await expect(page.get_by_role("table", name="Runs")).to_contain_text("failed")


async def test_worker_indicator_follows_dashboard_actions(page: Page) -> None:
    await sign_up(page)
    project_id = await create_project(page, "Workers")
    workflow_id = await create_workflow(page, project_id, "Tick")
    await build_and_run(page)
    await expect_run_status(page, "completed")
    indicator = page.get_by_role("button", name=re.compile(r"^Worker: "))
    await expect(indicator).to_have_attribute("data-tone", "green")

    # The details popover shows the registry row.
    await indicator.click()
    details = page.get_by_role("dialog", name="Worker details")
    await expect(details).to_contain_text("Host")
    await expect(details).to_contain_text("Last heartbeat")
    await expect(details).to_contain_text("Memory")

    await page.goto("/projects")
    card = page.get_by_role("listitem", name="Project Workers")
    dot = card.locator(".worker-status")
    await expect(dot).to_have_attribute("data-tone", "green")
    await card.get_by_role("button", name="Stop worker", exact=True).click()
    await expect(dot).to_have_attribute("data-tone", re.compile("red|grey"), timeout=RUN_TIMEOUT)
    await expect(card.get_by_role("img", name=re.compile(r"Worker (stopped|idle)"))).to_be_visible()
    await screenshot(page, "11-worker-stopped")

    await page.goto(f"/workflows/{workflow_id}")
    await expect(indicator).to_have_attribute("data-tone", re.compile("red|grey"))

    await page.goto("/projects")
    await card.get_by_role("button", name="Start worker", exact=True).click()
    await expect(dot).to_have_attribute("data-tone", "green", timeout=RUN_TIMEOUT)
    await expect(card.get_by_role("img", name="Worker running")).to_be_visible()
    await page.goto(f"/workflows/{workflow_id}")
    await expect(indicator).to_have_attribute("data-tone", "green")


async def test_builder_undo_redo_and_keyboard_delete(page: Page) -> None:
    await sign_up(page)
    project_id = await create_project(page, "Editing")
    await create_workflow(page, project_id, "Edits")
    await add_from_palette(page, "Delay")
    delay = node(page, "delay_1")
    await expect(delay).to_be_visible()
    await expect(page.get_by_text("Unsaved changes")).to_be_visible()

    await delay.click()
    await page.keyboard.press("Delete")
    await expect(delay).to_have_count(0)
    await page.keyboard.press("Control+z")
    await expect(delay).to_be_visible()
    await page.keyboard.press("Control+Shift+z")
    await expect(delay).to_have_count(0)
    await page.get_by_role("button", name="Undo").click()
    await expect(delay).to_be_visible()

    # Typing in a field is one undo step, and does not delete the node.
    await delay.click()
    seconds = page.get_by_role("complementary", name="Side panel").get_by_label("Seconds")
    await expect(delay).to_contain_text("1 s")
    await seconds.fill("")
    await seconds.press_sequentially("42")
    await seconds.press("Backspace")
    await expect(delay).to_contain_text("4 s")
    await page.get_by_role("button", name="Undo").click()
    await expect(delay).to_contain_text("1 s")
    await expect(seconds).to_have_value("1")

    # Saved graphs come back after a reload.
    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page.get_by_text("Saved", exact=True)).to_be_visible()
    await page.reload()
    await expect(node(page, "delay_1")).to_be_visible()


async def test_run_input_is_validated(page: Page) -> None:
    await sign_up(page)
    project_id = await create_project(page, "Inputs")
    await create_workflow(page, project_id, "Validate")
    await page.get_by_role("button", name="Build", exact=True).click()
    dialog = page.get_by_role("dialog", name="Build and run")
    box = dialog.get_by_label("Run input (JSON)")
    submit = dialog.get_by_role("button", name="Build and run")
    await box.fill('{"a": ')
    await expect(dialog.get_by_role("alert")).to_contain_text("Invalid JSON")
    await expect(submit).to_be_disabled()
    await box.fill("[1, 2]")
    await expect(dialog.get_by_role("alert")).to_contain_text("JSON object")
    await box.fill('{"a": 1}')
    await expect(dialog.get_by_text("Valid JSON object.")).to_be_visible()
    await expect(submit).to_be_enabled()
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_be_hidden()


async def test_auth_errors_and_expired_session(page: Page) -> None:
    email = await sign_up(page)
    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await expect(page).to_have_url(re.compile(r"/login"))

    # A token the server no longer accepts sends the user back to sign in.
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Projects", level=1)).to_be_visible()
    await page.evaluate("localStorage.setItem('runloom.token', 'not-a-valid-token')")
    await page.goto("/projects")
    await expect(page).to_have_url(re.compile(r"/login\?next="))
    await expect(page.get_by_text("Your session has ended. Sign in again.")).to_be_visible()

    # Unknown client routes say so instead of failing.
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Projects", level=1)).to_be_visible()
    await page.goto("/nowhere")
    await expect(page.get_by_text("Page not found")).to_be_visible()


async def test_versions_diff_and_rollback(page: Page) -> None:
    await sign_up(page)
    project_id = await create_project(page, "Versioned")
    workflow_id = await create_workflow(page, project_id, "Twice")
    await build_and_run(page, '{"n": 1}')
    await wait_completed(page, ["start", "end"])

    # A second build with another output makes v2.
    await page.get_by_role("tab", name="Configure").click()
    await node(page, "end").click()
    panel = page.get_by_role("complementary", name="Side panel")
    await panel.get_by_label("Output").fill('{"doubled": "{{ input.n * 2 }}"}')
    await build_and_run(page, '{"n": 21}')
    await wait_completed(page, ["start", "end"])
    await expect(panel.get_by_label("Run output")).to_contain_text("42")
    await expect(panel.get_by_text("v2", exact=True)).to_be_visible()

    await page.goto(f"/workflows/{workflow_id}/versions")
    versions = page.get_by_role("table", name="Versions")
    await expect(versions.get_by_role("row")).to_have_count(3)  # header + v2 + v1
    await page.get_by_label("Compare with version").select_option("1")
    await page.get_by_role("tab", name="workflow.py").click()  # the graph diff comes first
    diff = page.get_by_label("Difference between v1 and v2")
    await expect(diff).to_contain_text("v1 → v2")
    await expect(diff.locator(".diff-add").first).to_be_visible()
    await expect(diff.locator(".diff-del").first).to_be_visible()
    await screenshot(page, "12-versions-diff")

    await versions.get_by_role("button", name="Roll back to v1").click()
    confirm = page.get_by_role("dialog", name="Roll back to v1?")  # in the page, not confirm()
    await confirm.get_by_role("button", name="Roll back to v1").click()
    v1_row = versions.get_by_role("row").filter(has=page.get_by_role("button", name="v1"))
    await expect(v1_row.get_by_text("active")).to_be_visible()
    await expect(versions.get_by_role("button", name="Roll back to v2")).to_be_visible()
