"""Run history and recovery in a real Chromium against a live runloom: the run list filters
by status (with counts), trigger, time and text, pages through more runs than one page
holds and keeps its filters in the address; Retry continues a failed run as a new, linked
run (from the run panel and from the list); Re-run starts a run's input again on an older
version."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.async_api import Page, expect

from tests.echo_server import EchoServer
from tests.ui.helpers import (
    RUN_TIMEOUT,
    Api,
    confirm_in_page,
    expect_run_status,
    screenshot,
    sign_up,
)

pytestmark = pytest.mark.browser

RUNS = 60
FAILING = {3, 17, 29, 41, 53}
PAGE_SIZE = 10

CHECK = """\
if input.get("fail"):
    raise ValueError("planned failure " + input["label"])
return {"label": input["label"]}
"""


def checked_graph() -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}},
            {
                "id": "check",
                "type": "python",
                "position": {"x": 0, "y": 110},
                "config": {"code": CHECK},
                "retry": {"maximum_attempts": 1},
            },
            {
                "id": "end",
                "type": "end",
                "position": {"x": 0, "y": 220},
                "config": {"output": "{{ steps.check }}"},
            },
        ],
        "edges": [{"source": "start", "target": "check"}, {"source": "check", "target": "end"}],
    }


async def every_run(api: Api, workflow_id: str) -> list[dict[str, Any]]:
    """Every run of the workflow, through the API's own paging."""
    runs: list[dict[str, Any]] = []
    cursor = ""
    while True:
        query = f"workflow_id={workflow_id}&limit=500" + (f"&cursor={cursor}" if cursor else "")
        page = await api.call("GET", f"/api/executions?{query}")
        runs.extend(page["executions"])
        cursor = page["next_cursor"]
        if not cursor:
            return runs


async def wait_all_ended(api: Api, workflow_id: str, n: int) -> dict[str, int]:
    deadline = time.monotonic() + 180
    while True:
        page = await api.call("GET", f"/api/executions?workflow_id={workflow_id}&limit=1")
        counts: dict[str, int] = page["counts"]
        if counts.get("completed", 0) + counts.get("failed", 0) == n:
            return counts
        assert time.monotonic() < deadline, counts
        await asyncio.sleep(0.5)


async def test_run_list_filters_counts_search_and_paging(page: Page, live_server: str) -> None:
    await sign_up(page)
    api = await Api.of(page, live_server)
    project_id = await api.project("History")
    workflow_id = await api.workflow(project_id, "Checks", checked_graph())

    def run_input(n: int) -> dict[str, Any]:
        return {"n": n, "label": f"order-{n:03d}", "fail": n in FAILING}

    await api.build(workflow_id, run_input(0))
    for n in range(1, RUNS):
        await api.start(workflow_id, run_input(n))
    counts = await wait_all_ended(api, workflow_id, RUNS)
    assert counts == {"completed": RUNS - len(FAILING), "failed": len(FAILING)}, counts
    by_label = {r["input"]["label"]: r["id"] for r in await every_run(api, workflow_id)}
    assert len(by_label) == RUNS

    # Counts on the status filters; one small page at a time, every run exactly once.
    await page.goto(f"/workflows/{workflow_id}/runs?limit={PAGE_SIZE}")
    statuses = page.get_by_role("group", name="Filter by status")
    chip_all = statuses.get_by_role("button", name="all", exact=True)
    chip_completed = statuses.get_by_role("button", name="completed", exact=True)
    chip_failed = statuses.get_by_role("button", name="failed", exact=True)
    await expect(chip_all).to_have_accessible_description(f"{RUNS} runs")
    await expect(chip_completed).to_have_accessible_description(f"{RUNS - len(FAILING)} runs")
    await expect(chip_failed).to_have_accessible_description(f"{len(FAILING)} runs")
    await expect(chip_failed).to_contain_text(str(len(FAILING)))
    await expect(chip_all).to_have_attribute("aria-pressed", "true")
    table = page.get_by_role("table", name="Runs")
    rows = table.locator("tbody tr")
    summary = page.get_by_text(re.compile(r"^Showing \d+ of \d+ runs?$"))
    await expect(rows).to_have_count(PAGE_SIZE)
    await expect(summary).to_have_text(f"Showing {PAGE_SIZE} of {RUNS} runs")
    more = page.get_by_role("button", name="Load more")
    for shown in range(2 * PAGE_SIZE, RUNS + 1, PAGE_SIZE):
        await more.click()
        await expect(rows).to_have_count(shown)
    await expect(more).to_have_count(0)
    await expect(page.get_by_text("That is every matching run.")).to_be_visible()
    listed = [await r.get_attribute("data-execution-id") for r in await rows.all()]
    assert len(listed) == RUNS and set(listed) == set(by_label.values())
    await screenshot(page, "60-runs-paged")

    # The status filter: only failed runs; the address keeps it across a reload.
    await chip_failed.click()
    await expect(rows).to_have_count(len(FAILING))
    await expect(table.get_by_text("completed")).to_have_count(0)
    await expect(page).to_have_url(re.compile(r"[?&]status=failed"))
    await page.reload()
    await expect(chip_failed).to_have_attribute("aria-pressed", "true")
    await expect(rows).to_have_count(len(FAILING))
    failed_ids = {await r.get_attribute("data-execution-id") for r in await rows.all()}
    assert failed_ids == {by_label[f"order-{n:03d}"] for n in FAILING}

    # Free text: in the input of a completed run (no failed run has it) ...
    search = page.get_by_label("Search runs")
    await search.fill("order-042")
    await expect(page.get_by_text("No failed runs")).to_be_visible()
    await expect(chip_completed).to_have_accessible_description("1 run")
    await chip_all.click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-execution-id", by_label["order-042"])
    params = parse_qs(urlparse(page.url).query)
    assert params["q"] == ["order-042"] and "status" not in params, page.url
    # ... and in the error of the failed ones, counted by status.
    await search.fill("planned failure")
    await expect(rows).to_have_count(len(FAILING))
    await expect(chip_failed).to_have_accessible_description(f"{len(FAILING)} runs")
    await expect(chip_completed).to_have_accessible_description("0 runs")
    await screenshot(page, "61-runs-search")

    # Trigger and time range.
    await page.get_by_role("button", name="Clear filters").click()
    await expect(search).to_have_value("")
    await expect(rows).to_have_count(PAGE_SIZE)
    started_by = page.get_by_label("Started by", exact=True)
    await started_by.select_option("webhook")
    await expect(page.get_by_text("No runs match")).to_be_visible()
    await expect(chip_all).to_have_accessible_description("0 runs")
    await started_by.select_option("manual")
    await expect(chip_all).to_have_accessible_description(f"{RUNS} runs")
    time_range = page.get_by_label("Time range")
    await time_range.select_option("1h")
    await expect(chip_all).to_have_accessible_description(f"{RUNS} runs")
    await time_range.select_option("custom")
    await page.get_by_label("From", exact=True).fill("2099-01-01T00:00")
    await expect(page.get_by_text("No runs match")).to_be_visible()
    await page.reload()
    await expect(page.get_by_label("Time range")).to_have_value("custom")
    await expect(page.get_by_label("From", exact=True)).to_have_value("2099-01-01T00:00")
    await expect(page.get_by_label("Started by", exact=True)).to_have_value("manual")
    await expect(page.get_by_text("No runs match")).to_be_visible()


def flaky_graph(url: str) -> dict[str, Any]:
    """A python step, then an http step that fails on a 500 (one attempt), then the end."""
    return {
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}},
            {
                "id": "prepare",
                "type": "python",
                "position": {"x": 0, "y": 110},
                "config": {"code": "return {'n': input['n']}"},
            },
            {
                "id": "call",
                "type": "http_request",
                "position": {"x": 0, "y": 220},
                "config": {"method": "GET", "url": url, "fail_on_status": True},
                "retry": {"maximum_attempts": 1},
            },
            {
                "id": "end",
                "type": "end",
                "position": {"x": 0, "y": 330},
                "config": {"output": {"called": "{{ steps.call.body.call }}"}},
            },
        ],
        "edges": [
            {"source": "start", "target": "prepare"},
            {"source": "prepare", "target": "call"},
            {"source": "call", "target": "end"},
        ],
    }


def run_in_url(page: Page) -> str:
    (run,) = parse_qs(urlparse(page.url).query)["run"]
    return run


async def test_retry_a_failed_run_from_the_panel_and_from_the_list(
    page: Page, live_server: str, echo: EchoServer
) -> None:
    await sign_up(page)
    api = await Api.of(page, live_server)
    project_id = await api.project("Retries")
    echo.reset(statuses=[500])  # the first call fails, the next succeeds
    workflow_id = await api.workflow(project_id, "Flaky", flaky_graph(f"{echo.url}/flaky"))
    failed_id = await api.build(workflow_id, {"n": 1})
    assert (await api.wait_ended(failed_id, RUN_TIMEOUT / 1000))["status"] == "failed"

    # From the run panel: Retry shows the new run, linked to the failed one.
    await page.goto(f"/workflows/{workflow_id}?run={failed_id}")
    await expect_run_status(page, "failed")
    panel = page.get_by_role("complementary", name="Side panel")
    recover = panel.get_by_role("group", name="Recover the run")
    await recover.get_by_role("button", name="Retry", exact=True).click()
    await expect(page).not_to_have_url(re.compile(rf"run={failed_id}"))
    retry_id = run_in_url(page)
    await expect_run_status(page, "completed")
    back = panel.get_by_role("link", name=f"retry of run {failed_id}")
    await expect(back).to_have_text(f"retry of {failed_id[:8]}")
    await expect(panel.get_by_label("Run output")).to_contain_text('"called": 2')
    retry = await api.execution(retry_id)
    assert retry["retry_of"] == failed_id and retry["code_version"] == 1, retry
    assert len(echo.requests) == 2
    await screenshot(page, "62-retried")
    await back.click()
    await expect(page).to_have_url(re.compile(rf"run={failed_id}"))
    await expect_run_status(page, "failed")

    # From the run list: another failed run, retried from its row.
    echo.reset(statuses=[500])
    second_id = await api.start(workflow_id, {"n": 2})
    assert (await api.wait_ended(second_id, RUN_TIMEOUT / 1000))["status"] == "failed"
    await page.goto(f"/workflows/{workflow_id}/runs")
    table = page.get_by_role("table", name="Runs")
    retried_row = table.locator(f'tr[data-execution-id="{retry_id}"]')
    await expect(retried_row.get_by_role("link", name=f"retry of run {failed_id}")).to_be_visible()
    row = table.locator(f'tr[data-execution-id="{second_id}"]')
    await row.get_by_role("button", name=f"Retry run {second_id}").click()
    await expect(page).to_have_url(re.compile(rf"/workflows/{workflow_id}\?run="))
    await expect(page).not_to_have_url(re.compile(rf"run={second_id}"))
    await expect_run_status(page, "completed")
    await expect(panel.get_by_role("link", name=f"retry of run {second_id}")).to_be_visible()
    assert (await api.execution(run_in_url(page)))["retry_of"] == second_id

    # A run that completed offers Re-run only.
    await page.goto(f"/workflows/{workflow_id}/runs")
    done_row = table.locator(f'tr[data-execution-id="{retry_id}"]')
    await expect(done_row.get_by_role("button", name=f"Re-run run {retry_id}")).to_be_visible()
    await expect(done_row.get_by_role("button", name=f"Retry run {retry_id}")).to_have_count(0)


async def test_rerun_on_an_older_version(page: Page, live_server: str) -> None:
    await sign_up(page)
    api = await Api.of(page, live_server)
    project_id = await api.project("Reruns")

    def graph(tag: str) -> dict[str, Any]:
        return {
            "nodes": [
                {"id": "start", "type": "start", "position": {"x": 0, "y": 0}},
                {
                    "id": "end",
                    "type": "end",
                    "position": {"x": 0, "y": 120},
                    "config": {"output": {"version": tag, "n": "{{ input.n }}"}},
                },
            ],
            "edges": [{"source": "start", "target": "end"}],
        }

    workflow_id = await api.workflow(project_id, "Twice", graph("one"))
    first = await api.build(workflow_id, {"n": 1})
    await api.call("PUT", f"/api/workflows/{workflow_id}", json={"graph": graph("two")})
    second = await api.build(workflow_id, {"n": 2})
    for run_id in (first, second):
        assert (await api.wait_ended(run_id, RUN_TIMEOUT / 1000))["status"] == "completed"

    # From the list: the v2 run again, on v1.
    await page.goto(f"/workflows/{workflow_id}/runs")
    table = page.get_by_role("table", name="Runs")
    row = table.locator(f'tr[data-execution-id="{second}"]')
    await row.get_by_role("button", name=f"Re-run run {second}").click()
    dialog = page.get_by_role("dialog", name="Re-run")
    version = dialog.get_by_label("Version")
    await expect(version.locator("option")).to_have_text(
        ["Active version (v2)", "v2 (active, this run's)", "v1"]
    )
    await version.select_option("1")
    await screenshot(page, "63-rerun-dialog")
    await dialog.get_by_role("button", name="Re-run", exact=True).click()
    await expect(page).to_have_url(re.compile(rf"/workflows/{workflow_id}\?run="))
    await expect(page).not_to_have_url(re.compile(rf"run={second}"))
    await expect_run_status(page, "completed")
    panel = page.get_by_role("complementary", name="Side panel")
    await expect(panel.get_by_text("v1", exact=True)).to_be_visible()
    await expect(panel.get_by_label("Run output")).to_contain_text('"version": "one"')
    await expect(panel.get_by_role("link", name=f"re-run of run {second}")).to_be_visible()
    rerun = await api.execution(run_in_url(page))
    assert (rerun["rerun_of"], rerun["code_version"], rerun["input"]) == (second, 1, {"n": 2})

    # From the run panel: on the active version.
    await (
        panel.get_by_role("group", name="Recover the run")
        .get_by_role("button", name="Re-run…")
        .click()
    )
    dialog = page.get_by_role("dialog", name="Re-run")
    await expect(dialog.get_by_label("Version")).to_have_value("")
    await dialog.get_by_role("button", name="Re-run", exact=True).click()
    await expect(page).not_to_have_url(re.compile(rf"run={rerun['id']}"))
    await expect_run_status(page, "completed")
    await expect(panel.get_by_text("v2", exact=True)).to_be_visible()
    await expect(panel.get_by_label("Run output")).to_contain_text('"version": "two"')
    await expect(panel.get_by_role("link", name=f"re-run of run {rerun['id']}")).to_be_visible()


async def test_terminate_an_open_run(page: Page, live_server: str) -> None:
    await sign_up(page)
    api = await Api.of(page, live_server)
    project_id = await api.project("Stops")
    graph = {
        "nodes": [
            {"id": "start", "type": "start", "position": {"x": 0, "y": 0}},
            {
                "id": "approve",
                "type": "wait_for_signal",
                "position": {"x": 0, "y": 120},
                "config": {"signal": "approve"},
            },
            {"id": "end", "type": "end", "position": {"x": 0, "y": 240}},
        ],
        "edges": [{"source": "start", "target": "approve"}, {"source": "approve", "target": "end"}],
    }
    workflow_id = await api.workflow(project_id, "Waits", graph)
    run_id = await api.build(workflow_id, {})
    await page.goto(f"/workflows/{workflow_id}?run={run_id}")
    await expect_run_status(page, "running")
    panel = page.get_by_role("complementary", name="Side panel")
    stop = panel.get_by_role("group", name="Stop the run")
    await expect(stop.get_by_role("button", name="Cancel run")).to_be_visible()
    await expect(panel.get_by_role("group", name="Recover the run")).to_have_count(0)
    await stop.get_by_role("button", name="Terminate run").click()
    await confirm_in_page(page, "Terminate this run now?", "Terminate run")
    await expect_run_status(page, "terminated")
    await expect(stop).to_have_count(0)
    recover = panel.get_by_role("group", name="Recover the run")
    await expect(recover.get_by_role("button", name="Retry", exact=True)).to_be_visible()
    assert (await api.execution(run_id))["status"] == "terminated"
