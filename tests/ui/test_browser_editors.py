"""Editors that help, in a real Chromium against a live runloom: after a run, a template
editor offers a step's fields and previews the resolved value; a reference to no step is
marked; "Test this step" runs a python node in the sandbox and shows its output; Tab
indents in the code editor."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.ui.helpers import Api, node, screenshot, sign_up

pytestmark = pytest.mark.browser

SHOUT = 'print("shouting", input["name"])\nreturn {"greeting": "hi " + input["name"], "count": 3}'


def graph() -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}},
            {"id": "shout", "type": "python", "position": {"x": 0, "y": 120},
             "config": {"code": SHOUT}},
            {"id": "end", "type": "end", "position": {"x": 0, "y": 240}},
        ],
        "edges": [
            {"source": "start", "target": "shout"},
            {"source": "shout", "target": "end"},
        ],
    }  # fmt: skip


async def _ran_workflow(page: Page, live_server: str) -> str:
    """Signed in, a workflow that ran once with {"name": "Ada"}; the builder open on it."""
    await sign_up(page)
    api = await Api.of(page, live_server)
    project_id = await api.project("Editors")
    workflow_id = await api.workflow(project_id, "Helped", graph())
    execution = await api.wait_ended(await api.build(workflow_id, {"name": "Ada"}))
    assert execution["status"] == "completed", execution
    await page.goto(f"/workflows/{workflow_id}")
    await expect(node(page, "shout")).to_be_visible()
    return workflow_id


async def test_template_editor_completes_step_fields_previews_and_flags(
    page: Page, live_server: str
) -> None:
    await _ran_workflow(page, live_server)
    panel = page.get_by_role("complementary", name="Side panel")
    await node(page, "end").click()
    output = panel.get_by_label("Output", exact=True)
    await expect(output).to_have_attribute("data-editor", "template")
    await output.click()
    await page.keyboard.type("{{ steps.shout.")
    # The fields the last run's shout step returned are offered.
    options = page.get_by_role("listbox")
    await expect(options.get_by_role("option", name="greeting")).to_be_visible()
    await expect(options.get_by_role("option", name="count")).to_be_visible()
    await options.get_by_role("option", name="greeting").click()
    await expect(output).to_contain_text("{{ steps.shout.greeting")
    # The preview resolves it against the last run's data.
    preview = panel.locator("#field-end-output-preview")
    await expect(preview).to_contain_text('"hi Ada"')
    await screenshot(page, "editors-1-template-complete-preview")

    # A step that does not exist is marked in the editor, before any check.
    await output.fill("{{ steps.nope }}")
    await expect(panel.locator(".cm-lintRange-error")).to_be_visible()
    await expect(preview).to_contain_text("null")


async def test_test_this_step_runs_a_python_node_and_tab_indents(
    page: Page, live_server: str
) -> None:
    await _ran_workflow(page, live_server)
    panel = page.get_by_role("complementary", name="Side panel")
    await node(page, "shout").click()
    code = panel.get_by_role("textbox", name="Code", exact=True)
    await expect(code).to_have_attribute("data-editor", "python")

    # Tab indents instead of leaving the editor.
    await code.click()
    await page.keyboard.press("Control+End")
    await page.keyboard.press("Enter")
    await page.keyboard.type("if True:")
    await page.keyboard.press("Enter")
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("Tab")
    await page.keyboard.type("pass")
    await expect(code).to_be_focused()
    await expect(code.locator(".cm-line").last).to_have_text("    pass")

    # Test this step: the code as drafted, with the last run's data, in the sandbox.
    await code.fill(
        'print("testing", input["name"])\nreturn {"shouted": input["name"].upper(), "n": 2}'
    )
    await panel.get_by_role("button", name="Test this step").click()
    result = panel.get_by_role("status", name="Test result")
    await expect(result).to_have_attribute("data-ok", "true", timeout=60_000)
    await expect(result.get_by_label("Test output")).to_contain_text('"shouted": "ADA"')
    await expect(result.get_by_label("Test logs")).to_contain_text("testing Ada")
    await screenshot(page, "editors-2-test-this-step")

    # A failing step shows its error.
    await code.fill('raise ValueError("no such order")')
    await panel.get_by_role("button", name="Test this step").click()
    await expect(result).to_have_attribute("data-ok", "false", timeout=60_000)
    await expect(result.get_by_label("Test error")).to_contain_text("ValueError: no such order")


async def test_python_max_attempts_placeholder_matches_the_compiled_default(
    page: Page, live_server: str
) -> None:
    await _ran_workflow(page, live_server)
    panel = page.get_by_role("complementary", name="Side panel")
    await node(page, "shout").click()
    await expect(panel.get_by_label("Max attempts")).to_have_attribute("placeholder", "1")
