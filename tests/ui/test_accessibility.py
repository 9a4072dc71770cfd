"""Accessibility in a real Chromium against a live runloom: axe-core finds no serious or
critical violation on the sign-in page, the projects dashboard, the new-workflow page, the
builder (with a small graph) and a run view (the builder showing a completed run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.ui.helpers import RUN_TIMEOUT, Api, expect_run_status, node, sign_up

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "ui" / "node_modules" / "axe-core" / "axe.min.js"


def small_graph() -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}},
            {
                "id": "shape",
                "type": "transform",
                "position": {"x": 0, "y": 150},
                "config": {"output": "{{ input }}"},
            },
            {
                "id": "branch",
                "type": "condition",
                "position": {"x": 0, "y": 300},
                "config": {"expression": "True"},
            },
            {"id": "end", "type": "end", "position": {"x": 0, "y": 450}},
        ],
        "edges": [
            {"source": "start", "target": "shape"},
            {"source": "shape", "target": "branch"},
            {"source": "branch", "target": "end", "branch": "true"},
        ],
    }


async def serious_violations(page: Page) -> list[str]:
    """What axe-core reports as serious or critical, one line per rule and element."""
    assert AXE.exists(), f"{AXE} is missing: `cd ui && npm ci`"
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}))"
    )
    return [
        f"{v['impact']} {v['id']} ({v['help']}): {target}" for v in result for target in v["nodes"]
    ]


class Audit:
    """Every page's findings, reported together at the end."""

    def __init__(self) -> None:
        self.found: list[str] = []

    async def check(self, page: Page, where: str) -> None:
        self.found += [f"{where}: {line}" for line in await serious_violations(page)]

    def assert_clean(self) -> None:
        assert not self.found, "axe-core found:\n" + "\n".join(self.found)


async def test_pages_have_no_serious_accessibility_violation(page: Page, live_server: str) -> None:
    audit = Audit()
    await page.goto("/login")
    await expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    await audit.check(page, "the sign-in page")

    await sign_up(page)
    api = await Api.of(page, live_server)
    project_id = await api.project("Accessible")
    await page.goto("/projects")
    await expect(page.get_by_role("heading", name="Accessible")).to_be_visible()
    await audit.check(page, "the projects dashboard")

    await page.goto(f"/workflows/new?project_id={project_id}")
    await expect(page.get_by_label("Workflow name")).to_be_visible()
    await audit.check(page, "the new-workflow page")

    workflow_id = await api.workflow(project_id, "Readable", small_graph())
    await page.goto(f"/workflows/{workflow_id}")
    await expect(node(page, "branch")).to_be_visible()
    await audit.check(page, "the builder")

    await node(page, "branch").click()
    await expect(page.get_by_role("complementary", name="Side panel")).to_contain_text("branch")
    await audit.check(page, "the builder with a node selected")

    execution_id = await api.build(workflow_id, {"name": "Ada"})
    ended = await api.wait_ended(execution_id, within_s=RUN_TIMEOUT / 1000)
    assert ended["status"] == "completed", ended
    await page.goto(f"/workflows/{workflow_id}?run={execution_id}")
    await expect_run_status(page, "completed")
    await audit.check(page, "a run view")
    audit.assert_clean()
