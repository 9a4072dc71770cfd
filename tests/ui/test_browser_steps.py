"""The step inspector and error edges, in a real Chromium against a live runloom: a finished
run's python step shows what it printed and returned (JSON viewer: collapse, expand,
search, copy), a for_each shows each item, a failing python step shows its traceback, a
big output loads on demand; an error edge is drawn from its own handle, chosen in the
side panel, saved, and taken when its step fails."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.ui.helpers import (
    RUN_TIMEOUT,
    Api,
    build_and_run,
    connect,
    expect_run_status,
    node,
    screenshot,
    sign_up,
)

pytestmark = pytest.mark.browser

SHOUT = """\
print("hello from", input["name"])
print("second line")
return {"greeting": "hi " + input["name"], "numbers": [1, 2, 3],
        "nested": {"deep": {"deeper": "treasure"}}}
"""

EXPLODE = """\
def check_order(order):
    raise ValueError("no such order: " + str(order))

check_order(input["order"])
return {"never": True}
"""


def inspected_graph() -> dict[str, Any]:
    """start → shout (prints, returns JSON) → each (a python step per item) → explode
    (raises from a function of its own) → end."""
    return {
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}},
            {"id": "shout", "type": "python", "position": {"x": 0, "y": 110},
             "config": {"code": SHOUT}},
            {
                "id": "each",
                "type": "for_each",
                "position": {"x": 0, "y": 220},
                "config": {
                    "items": "steps.shout.numbers",
                    "concurrency": 1,
                    "step": {
                        "type": "python",
                        "config": {"code": 'print("item", item)\nreturn item * 10'},
                    },
                },
            },
            {"id": "explode", "type": "python", "position": {"x": 0, "y": 330},
             "config": {"code": EXPLODE}, "retry": {"maximum_attempts": 1}},
            {"id": "end", "type": "end", "position": {"x": 0, "y": 440}},
        ],
        "edges": [
            {"source": "start", "target": "shout"},
            {"source": "shout", "target": "each"},
            {"source": "each", "target": "explode"},
            {"source": "explode", "target": "end"},
        ],
    }  # fmt: skip


async def test_step_inspector_shows_logs_output_items_and_traceback(
    page: Page, live_server: str
) -> None:
    await sign_up(page)
    api = await Api.of(page, live_server)
    project_id = await api.project("Inspected")
    workflow_id = await api.workflow(project_id, "Orders", inspected_graph())
    await page.goto(f"/workflows/{workflow_id}")
    await build_and_run(page, '{"name": "Ada", "order": 7}')
    await expect_run_status(page, "failed")

    # A click on a node of the run opens its step: what it printed, got and returned.
    await node(page, "shout").click()
    inspector = page.get_by_role("region", name="Step inspector")
    await expect(inspector.get_by_role("heading", name="Step shout")).to_be_visible()
    await expect(page).to_have_url(re.compile(r"[?&]step=shout"))
    await expect(inspector.locator("[data-step-status]")).to_have_attribute(
        "data-step-status", "completed"
    )
    await expect(inspector.get_by_test_id("step-attempts")).to_have_text("1")
    await expect(inspector.get_by_label("Step logs")).to_contain_text("hello from Ada")
    await expect(inspector.get_by_label("Step logs")).to_contain_text("second line")
    await expect(inspector.get_by_role("group", name="Step input")).to_contain_text('"name": "Ada"')
    output = inspector.get_by_role("group", name="Step output")
    await expect(output).to_contain_text('"greeting": "hi Ada"')
    await expect(node(page, "shout")).to_have_class(re.compile(r"\binspected\b"))

    # The JSON viewer: deep branches start closed; search opens them, collapse/expand all.
    await expect(output).not_to_contain_text("treasure")
    search = output.get_by_label("Search Step output")
    await search.fill("TREASURE")
    await expect(output).to_contain_text("1 match")
    await expect(output.locator("mark")).to_have_text("treasure")
    await search.fill("")
    await expect(output).not_to_contain_text("treasure")
    await output.get_by_role("button", name="Expand all of Step output").click()
    await expect(output).to_contain_text('"deeper": "treasure"')
    await output.get_by_role("button", name="Collapse all of Step output").click()
    await expect(output).not_to_contain_text("deeper")
    await expect(output).to_contain_text("{1 key}")
    numbers = output.get_by_role("button", name="numbers", exact=True)
    await expect(numbers).to_have_attribute("aria-expanded", "false")
    await numbers.click()
    await expect(numbers).to_have_attribute("aria-expanded", "true")
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await output.get_by_role("button", name="Copy Step output").click()
    copied = json.loads(await page.evaluate("navigator.clipboard.readText()"))
    assert copied == {
        "greeting": "hi Ada",
        "numbers": [1, 2, 3],
        "nested": {"deep": {"deeper": "treasure"}},
    }
    await screenshot(page, "50-step-inspector-output")

    # A for_each, chosen from the run panel's list: one entry per item, each with its own
    # output and logs.
    panel = page.get_by_role("complementary", name="Side panel")
    await panel.get_by_role("button", name="Inspect step each").click()
    await expect(inspector.get_by_role("heading", name="Step each")).to_be_visible()
    item = inspector.get_by_label("For-each item")
    await item.select_option("1")
    await expect(inspector.get_by_role("group", name="Step output")).to_contain_text("20")
    await expect(inspector.get_by_label("Step logs")).to_contain_text("item 2")
    await item.select_option("2")
    await expect(inspector.get_by_role("group", name="Step output")).to_contain_text("30")
    await expect(inspector.get_by_label("Step logs")).to_contain_text("item 3")

    # The failing step: its error and the traceback through the user's code only.
    await panel.get_by_role("button", name="Inspect step explode").click()
    await expect(inspector.get_by_role("heading", name="Step explode")).to_be_visible()
    await expect(inspector.locator("[data-step-status]")).to_have_attribute(
        "data-step-status", "failed"
    )
    error = inspector.get_by_role("alert", name="Step error")
    await expect(error).to_contain_text("ValueError")
    await expect(error).to_contain_text("no such order: 7")
    traceback = error.get_by_label("Traceback")
    await expect(traceback).to_contain_text("check_order")
    await expect(traceback).to_contain_text('raise ValueError("no such order: " + str(order))')
    await expect(traceback).not_to_contain_text("runloom_runtime")
    await screenshot(page, "51-step-inspector-traceback")

    # The inspector is in the address: a reload opens it again; Escape closes it.
    await page.reload()
    await expect(inspector.get_by_role("heading", name="Step explode")).to_be_visible()
    await expect(inspector.get_by_role("alert", name="Step error")).to_contain_text("ValueError")
    await inspector.focus()
    await page.keyboard.press("Escape")
    await expect(inspector).to_have_count(0)
    await expect(page).not_to_have_url(re.compile(r"[?&]step="))


async def test_big_output_loads_on_demand(page: Page, live_server: str) -> None:
    await sign_up(page)
    api = await Api.of(page, live_server)
    project_id = await api.project("Big values")
    graph = {
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}},
            {
                "id": "big",
                "type": "python",
                "position": {"x": 0, "y": 110},
                "config": {"code": 'return {"blob": "x" * 600000 + "END-MARKER"}'},
            },
            {"id": "end", "type": "end", "position": {"x": 0, "y": 220}, "config": {"output": 1}},
        ],
        "edges": [{"source": "start", "target": "big"}, {"source": "big", "target": "end"}],
    }
    workflow_id = await api.workflow(project_id, "Big", graph)
    execution_id = await api.build(workflow_id, {})
    assert (await api.wait_ended(execution_id, RUN_TIMEOUT / 1000))["status"] == "completed"
    steps = (await api.call("GET", f"/api/executions/{execution_id}/steps"))["steps"]
    (big,) = [s for s in steps if s["node_id"] == "big"]
    assert big["truncated"] is True, big

    await page.goto(f"/workflows/{workflow_id}?run={execution_id}&step=big")
    inspector = page.get_by_role("region", name="Step inspector")
    output = inspector.get_by_role("group", name="Step output")
    await expect(inspector.get_by_role("heading", name="Step big")).to_be_visible()
    await expect(output).not_to_contain_text("END-MARKER")
    await inspector.get_by_role("button", name="Load the full output").click()
    await expect(output).to_contain_text("END-MARKER")
    await expect(inspector.get_by_role("button", name="Load the full output")).to_have_count(0)


async def test_error_edge_drawn_chosen_saved_and_taken(page: Page, live_server: str) -> None:
    await sign_up(page)
    api = await Api.of(page, live_server)
    project_id = await api.project("Error paths")
    graph = {
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}},
            {
                "id": "risky",
                "type": "python",
                "position": {"x": 0, "y": 140},
                "config": {"code": 'raise RuntimeError("card declined")'},
                "retry": {"maximum_attempts": 1},
            },
            {
                "id": "recover",
                "type": "python",
                "position": {"x": 320, "y": 280},
                "config": {"code": 'return {"handled": error["message"], "by": error["node_id"]}'},
            },
            {
                "id": "end",
                "type": "end",
                "position": {"x": 0, "y": 420},
                "config": {"output": "{{ steps.recover }}"},
            },
        ],
        "edges": [
            {"source": "start", "target": "risky"},
            {"source": "recover", "target": "end"},
        ],
    }
    workflow_id = await api.workflow(project_id, "Careful", graph)
    await page.goto(f"/workflows/{workflow_id}")
    await page.get_by_role("button", name="Fit View").click()

    # Only activities that can fail have the error handle.
    def error_handle(node_id: str) -> str:
        return f'.react-flow__node[data-id="{node_id}"] .react-flow__handle[data-handleid="error"]'

    await expect(page.locator(error_handle("risky"))).to_have_count(1)
    await expect(page.locator(error_handle("end"))).to_have_count(0)

    # Drawn from the error handle: red, dashed, labelled.
    await connect(page, "risky", "recover", handle="error")
    edge = page.locator(".react-flow__edge.edge-error")
    await expect(edge).to_have_count(1)
    await expect(edge.locator(".react-flow__edge-text")).to_have_text("on error")
    dash = await edge.locator(".react-flow__edge-path").evaluate(
        "p => getComputedStyle(p).strokeDasharray"
    )
    assert dash not in ("", "none"), dash

    # Chosen in the side panel: the edge's kind switches between normal and on error.
    panel = page.get_by_role("complementary", name="Side panel")
    await edge.locator(".react-flow__edge-textwrapper").click()
    kind = panel.get_by_label("Edge kind")
    await expect(kind).to_have_value("error")
    await kind.select_option("normal")
    await expect(page.locator(".react-flow__edge.edge-error")).to_have_count(0)
    await kind.select_option("error")
    await expect(page.locator(".react-flow__edge.edge-error")).to_have_count(1)
    # The panel of the node offers one error edge only.
    await node(page, "risky").click()
    remove = panel.get_by_role("button", name="Remove edge risky → recover (on error)")
    await expect(remove).to_be_visible()
    await expect(panel.get_by_label("Output").locator('option[value="error"]')).to_be_disabled()
    await node(page, "recover").click()
    await expect(panel.get_by_label("Template help")).to_contain_text("error.message")
    await screenshot(page, "52-error-edge")

    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page.get_by_text("Saved", exact=True)).to_be_visible()
    stored = await api.call("GET", f"/api/workflows/{workflow_id}")
    edges = stored.get("workflow", stored)["graph"]["edges"]
    assert {"source": "risky", "target": "recover", "sourceHandle": "error"} in edges, edges

    # Built and run, the failure takes the error edge and the run completes with it.
    await build_and_run(page)
    await expect_run_status(page, "completed")
    out = panel.get_by_label("Run output")
    await expect(out).to_contain_text("card declined")
    await expect(out).to_contain_text('"by": "risky"')
