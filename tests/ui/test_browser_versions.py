"""Versions of the graph and the graph beside its code, in a real Chromium against a live
runloom: the versions page diffs two versions' graphs (the changed node and field in
words, and marked on a small canvas); a rollback, confirmed in an in-app dialog, puts
v1's graph back in the builder; the builder's Code tab follows the selected node, and a
click in another node's code selects that node."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.ui.helpers import Api, node, screenshot, sign_up

pytestmark = pytest.mark.browser


def _chain(*nodes: dict[str, Any]) -> dict[str, Any]:
    every = [
        {"id": "start", "type": "start", "position": {"x": 0, "y": 0}},
        *nodes,
        {"id": "end", "type": "end", "position": {"x": 0, "y": 200 * (len(nodes) + 1)}},
    ]
    ids = [n["id"] for n in every]
    return {
        "nodes": every,
        "edges": [{"source": a, "target": b} for a, b in itertools.pairwise(ids)],
    }


def _transform(node_id: str, output: str, y: int) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "transform",
        "position": {"x": 0, "y": y},
        "config": {"output": output},
    }


async def test_graph_diff_and_rollback_restore_the_canvas(page: Page, live_server: str) -> None:
    await sign_up(page)
    api = await Api.of(page, live_server)
    project_id = await api.project("Versions")
    v1 = _chain(_transform("shape", "one", 200))
    workflow_id = await api.workflow(project_id, "Versioned", v1)
    await api.call("POST", f"/api/workflows/{workflow_id}/deploy", 201)
    v2 = _chain(_transform("shape", "two", 200), _transform("notify", "sent", 400))
    await api.call("PUT", f"/api/workflows/{workflow_id}", json={"graph": v2})
    assert (await api.call("POST", f"/api/workflows/{workflow_id}/deploy", 201))["version"] == 2

    await page.goto(f"/workflows/{workflow_id}/versions")
    await page.get_by_role("button", name="v2", exact=True).click()
    await page.get_by_label("Compare with version").select_option("1")
    diff = page.get_by_label("Graph difference between v1 and v2")
    await expect(diff).to_contain_text("1 node added, 1 node changed")
    changes = diff.get_by_role("list", name="Changes")
    await expect(changes).to_contain_text("notify (transform) added")
    await expect(changes).to_contain_text('config.output changed from "one" to "two"')
    # Marked on the canvas of v2: the new node and the changed one.
    await expect(diff.locator('.react-flow__node.preview-added[data-id="notify"]')).to_be_visible()
    await expect(diff.locator('.react-flow__node.preview-changed[data-id="shape"]')).to_be_visible()
    # The code diff shows what changed, not every line naming the version.
    await page.get_by_role("tab", name="workflow.py").click()
    code = page.get_by_label("Difference between v1 and v2")
    await expect(code).to_contain_text('"two"')
    assert await code.locator(".diff-add", has_text="OrdersV2Workflow").count() == 0
    assert await code.locator(".diff-add", has_text="@v2").count() == 0
    await page.get_by_role("tab", name="Graph").click()
    await screenshot(page, "versions-graph-diff")

    # Rollback, confirmed in the page (no confirm()): v1's graph is back in the editor.
    await page.get_by_role("button", name="Roll back to v1").click()
    dialog = page.get_by_role("dialog", name="Roll back to v1?")
    await dialog.get_by_role("button", name="Roll back to v1").click()
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("status")).to_contain_text("v1 is active")
    await page.get_by_role("link", name="Open it in the builder").click()
    await expect(page.get_by_role("heading", name="Versioned", level=1)).to_be_visible()
    await expect(page.get_by_text("active v1")).to_be_visible()
    await expect(node(page, "shape")).to_be_visible()
    await expect(node(page, "notify")).to_have_count(0)
    saved = (await api.call("GET", f"/api/workflows/{workflow_id}"))["workflow"]
    assert (saved["version"], saved["graph"]) == (1, v1)


async def test_the_code_tab_follows_the_selected_node(page: Page, live_server: str) -> None:
    await sign_up(page)
    api = await Api.of(page, live_server)
    project_id = await api.project("Code")
    graph = _chain(_transform("first", "a", 200), _transform("second", "b", 400))
    workflow_id = await api.workflow(project_id, "Coded", graph)
    await page.goto(f"/workflows/{workflow_id}")
    await expect(page.get_by_role("heading", name="Coded", level=1)).to_be_visible()
    panel = page.get_by_role("complementary", name="Side panel")
    await panel.get_by_role("tab", name="Code").click()
    code = panel.get_by_label("workflow.py", exact=True)
    await expect(code).to_contain_text("class CodedV1Workflow")

    # Selecting a node on the canvas highlights its method and scrolls it into view.
    await node(page, "second").click()
    highlighted = code.locator(".code-line-node")
    await expect(highlighted.first).to_contain_text("async def _node_second(self) -> Any:")
    await expect(highlighted.first).to_be_in_viewport()
    await expect(code.locator('[data-node="first"].code-line-node')).to_have_count(0)

    # A click on a line of another node's method selects that node on the canvas.
    await code.locator('[data-node="first"]').nth(2).click()
    await expect(page.locator('.react-flow__node[data-id="first"]')).to_have_class(
        re.compile(r"\bselected\b")
    )
    await expect(page.locator('.react-flow__node[data-id="second"]')).not_to_have_class(
        re.compile(r"\bselected\b")
    )
    await expect(highlighted.first).to_contain_text("async def _node_first(self) -> Any:")
    # By keyboard too: the first line of each node's code is a button.
    await panel.get_by_role("button", name="Select node second").press("Enter")
    await expect(page.locator('.react-flow__node[data-id="second"]')).to_have_class(
        re.compile(r"\bselected\b")
    )
    await screenshot(page, "builder-code-tab")
