"""The README's screenshots (docs/screenshots/): the builder, a run and the versions diff at
1440 and 800 px wide, taken from a live runloom. Skipped unless RUNLOOM_SCREENSHOTS=1:

    RUNLOOM_SCREENSHOTS=1 .venv/bin/pytest tests/ui/test_screenshots.py
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from tests.ui.helpers import RUN_TIMEOUT, Api, expect_run_status, node, sign_up

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        os.environ.get("RUNLOOM_SCREENSHOTS") != "1",
        reason="writes docs/screenshots/ only when RUNLOOM_SCREENSHOTS=1",
    ),
]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WIDTHS = (1440, 800)

GREET = """\
name = input.get("name", "world")
return {"greeting": f"Hello, {name}!", "length": len(name)}
"""


def orders_graph(*, version: int) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {"id": "start", "type": "start", "position": {"x": 0, "y": 0}},
        {
            "id": "greet",
            "type": "python",
            "position": {"x": 0, "y": 140},
            "config": {"code": GREET},
        },
        {
            "id": "is_long",
            "type": "condition",
            "position": {"x": 0, "y": 280},
            "config": {"expression": "steps.greet.length > 3"},
        },
        {
            "id": "shape",
            "type": "transform",
            "position": {"x": -160, "y": 420},
            "config": {"output": '{"message": "{{ steps.greet.greeting }}", "long": true}'},
        },
        {
            "id": "short",
            "type": "transform",
            "position": {"x": 160, "y": 420},
            "config": {"output": '{"message": "short name"}'},
        },
        {"id": "end", "type": "end", "position": {"x": 0, "y": 560}},
    ]
    edges: list[dict[str, Any]] = [
        {"source": "start", "target": "greet"},
        {"source": "greet", "target": "is_long"},
        {"source": "is_long", "target": "shape", "branch": "true"},
        {"source": "is_long", "target": "short", "branch": "false"},
        {"source": "shape", "target": "end"},
        {"source": "short", "target": "end"},
    ]
    if version >= 2:
        nodes[3]["config"] = {
            "output": '{"message": "{{ steps.greet.greeting }}", "long": true, "v": 2}'
        }
        nodes.insert(
            5,
            {
                "id": "wait",
                "type": "delay",
                "position": {"x": 160, "y": 500},
                "config": {"seconds": 1},
            },
        )
        edges[3] = {"source": "is_long", "target": "wait", "branch": "false"}
        edges.insert(4, {"source": "wait", "target": "short"})
        nodes[4]["position"] = {"x": 160, "y": 620}
        nodes[-1]["position"] = {"x": 0, "y": 760}
    return {"nodes": nodes, "edges": edges}


async def shoot(page: Page, name: str, width: int) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    await page.wait_for_timeout(400)  # fit view, fonts
    await page.screenshot(path=str(DOCS / f"{name}-{width}.png"))


async def test_write_the_readme_screenshots(page: Page, live_server: str) -> None:
    await sign_up(page)
    api = await Api.of(page, live_server)
    project_id = await api.project("Orders")
    workflow_id = await api.workflow(project_id, "Greet customers", orders_graph(version=1))
    await api.call("POST", f"/api/workflows/{workflow_id}/deploy", 201)
    await api.call("PUT", f"/api/workflows/{workflow_id}", json={"graph": orders_graph(version=2)})
    execution_id = await api.build(workflow_id, {"name": "Ada Lovelace"})
    ended = await api.wait_ended(execution_id, within_s=RUN_TIMEOUT / 1000)
    assert ended["status"] == "completed", ended

    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 900})

        await page.goto(f"/workflows/{workflow_id}")
        await expect(node(page, "greet")).to_be_visible()
        await node(page, "greet").click()
        panel = page.get_by_role("complementary", name="Side panel")
        await expect(panel.get_by_label("Node id")).to_have_value("greet")
        await shoot(page, "builder", width)

        await page.goto(f"/workflows/{workflow_id}?run={execution_id}")
        await expect_run_status(page, "completed")
        await shoot(page, "run", width)

        await page.goto(f"/workflows/{workflow_id}/versions")
        await page.get_by_role("button", name="v2", exact=True).click()
        await page.get_by_label("Compare with version").select_option("1")
        diff = page.get_by_label("Graph difference between v1 and v2")
        await expect(diff).to_contain_text("changed")
        await shoot(page, "versions-diff", width)
