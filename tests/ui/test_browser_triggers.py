"""The builder's Triggers panel, in a real Chromium against a live runloom: a webhook whose
URL and curl example start a real run (badged "webhook" in the run list), and a schedule
described by the server, paused and deleted."""

from __future__ import annotations

import itertools
import re
from datetime import datetime

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.ui.helpers import (
    RUN_TIMEOUT,
    build_and_run,
    confirm_in_page,
    create_project,
    create_workflow,
    expect_run_status,
    page_text,
    screenshot,
    session_token,
    sign_up,
)

pytestmark = pytest.mark.browser


async def listed_triggers(base_url: str, token: str, workflow_id: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        r = await client.get(
            f"/api/workflows/{workflow_id}/triggers", headers={"Authorization": f"Bearer {token}"}
        )
    assert r.status_code == 200, r.text
    triggers = r.json()["triggers"]
    assert isinstance(triggers, list)
    return triggers


async def test_webhook_and_schedule(page: Page, live_server: str) -> None:
    await sign_up(page)
    project_id = await create_project(page, "Automations")
    workflow_id = await create_workflow(page, project_id, "Echo")
    token = await session_token(page)
    await build_and_run(page, '{"by": "hand"}')
    await expect_run_status(page, "completed")
    panel_side = page.get_by_role("complementary", name="Side panel")
    await expect(panel_side.locator('[data-triggered-by="manual"]')).to_have_text("manual")

    await page.get_by_role("button", name="Triggers", exact=True).click()
    panel = page.get_by_role("dialog", name="Triggers")
    await expect(panel.get_by_text("No triggers yet")).to_be_visible()

    # A webhook: its URL, token and a curl example, right after creation only.
    await panel.get_by_role("button", name="Add webhook").click()
    fresh = panel.get_by_role("region", name="New webhook")
    await expect(fresh).to_contain_text("will not be shown again")
    url = await fresh.get_by_label("Webhook URL", exact=True).input_value()
    secret = await fresh.get_by_label("Token", exact=True).input_value()
    assert re.match(r"^https?://.+/hooks/", url), url
    assert secret
    curl = fresh.get_by_label("Try it with curl")
    await expect(curl).to_contain_text(f"curl -X POST '{url}'")
    await expect(curl).to_contain_text(f"Authorization: Bearer {secret}")
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await fresh.get_by_role("button", name="Copy webhook URL").click()
    assert await page.evaluate("navigator.clipboard.readText()") == url
    await fresh.get_by_role("button", name="Copy curl example").click()
    assert secret in await page.evaluate("navigator.clipboard.readText()")
    await screenshot(page, "40-webhook-created")

    # Calling it starts a run.
    async with httpx.AsyncClient(timeout=30) as client:
        refused = await client.post(
            url, json={"from": "nobody"}, headers={"Authorization": "Bearer wrong"}
        )
        assert refused.status_code == 401, refused.text
        r = await client.post(
            url, json={"from": "webhook"}, headers={"Authorization": f"Bearer {secret}"}
        )
    assert r.status_code == 202, r.text
    execution_id = r.json()["execution_id"]

    # Afterwards only the token's prefix is shown.
    await fresh.get_by_role("button", name="Done").click()
    await expect(fresh).to_have_count(0)
    webhook = panel.locator('li[data-trigger-type="webhook"]')
    await expect(webhook).to_contain_text(url)
    (listed,) = await listed_triggers(live_server, token, workflow_id)
    prefix = listed["token_prefix"]
    assert isinstance(prefix, str) and prefix and secret.startswith(prefix) and prefix != secret
    await expect(webhook).to_contain_text(f"{prefix}…")
    assert secret not in await page_text(page)

    # A schedule: the server describes it as it is typed.
    await panel.get_by_role("button", name="Add schedule").click()
    editor = panel.get_by_role("form", name="New schedule")
    zone = await page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone")
    await expect(editor.get_by_label("Time zone")).to_have_value(zone)
    preview = editor.get_by_role("region", name="Schedule preview")
    cron = editor.get_by_label("Cron expression")
    await cron.fill("61 * * * *")
    await expect(preview.get_by_role("alert")).to_be_visible()
    await expect(cron).to_have_attribute("aria-invalid", "true")
    await expect(editor.get_by_role("button", name="Create schedule")).to_be_disabled()
    await cron.fill("*/5 * * * *")
    await expect(preview.get_by_role("alert")).to_have_count(0)
    next_runs = preview.get_by_role("list", name="Next runs").get_by_role("listitem")
    await expect(next_runs).to_have_count(5)
    description = preview.get_by_test_id("schedule-description")
    await expect(description).to_contain_text("5")
    every_five = await description.inner_text()

    await editor.get_by_role("radio", name="Interval").check()
    await editor.get_by_label("Interval in seconds").fill("2")
    await editor.get_by_label("Time zone").fill("Europe/Berlin")
    await expect(description).not_to_have_text(every_five)
    await expect(description).to_contain_text("2")
    await expect(next_runs).to_have_count(5)
    times = [
        datetime.fromisoformat(str(await t.get_attribute("datetime")))
        for t in await preview.locator("time").all()
    ]
    assert [round((b - a).total_seconds()) for a, b in itertools.pairwise(times)] == [2] * 4
    # Saved as a cron that will not fire during the test, so that the only scheduled
    # run is the one "Run now" starts.
    await editor.get_by_role("radio", name="Cron").check()
    await cron.fill("0 9 1 1 *")
    await expect(description).not_to_have_text(re.compile(r"2 seconds", re.IGNORECASE))
    await expect(next_runs).to_have_count(5)
    await editor.get_by_label("Run input (JSON)").fill('{"from": "schedule"}')
    await editor.get_by_label("If the previous run is still going").select_option("buffer_one")
    await screenshot(page, "41-schedule-editor")
    await editor.get_by_role("button", name="Create schedule").click()
    await expect(editor).to_have_count(0)

    schedule = panel.locator('li[data-trigger-type="schedule"]')
    await expect(schedule).to_contain_text("Active")
    await expect(schedule).to_contain_text("0 9 1 1 *")
    await expect(schedule).to_contain_text("Europe/Berlin")
    await expect(schedule).to_contain_text("Buffer one")
    await expect(
        schedule.get_by_role("list", name=re.compile("^Next runs")).get_by_role("listitem")
    ).to_have_count(5)
    await screenshot(page, "42-triggers")

    # Edit changes its timing in place.
    await schedule.get_by_role("button", name="Edit").click()
    edit = panel.get_by_role("form", name="Edit schedule")
    await expect(edit.get_by_label("Cron expression")).to_have_value("0 9 1 1 *")
    await expect(edit.get_by_label("Run input (JSON)")).to_have_value(
        re.compile(r'"from": "schedule"')
    )
    await edit.get_by_label("Cron expression").fill("0 9 2 1 *")
    await expect(
        edit.get_by_role("region", name="Schedule preview").get_by_role("listitem")
    ).to_have_count(5)
    await edit.get_by_role("button", name="Save schedule").click()
    await expect(edit).to_have_count(0)
    await expect(schedule).to_contain_text("0 9 2 1 *")

    # Run now starts one run at once.
    await schedule.get_by_role("button", name="Run now").click()
    await expect(panel.get_by_role("status").first).to_contain_text("a run has started")

    # Pause: the button says Resume, no fire times are listed, the server agrees.
    await schedule.get_by_role("button", name="Pause").click()
    await expect(schedule.get_by_role("button", name="Resume")).to_be_visible()
    await expect(schedule).to_contain_text("Paused")
    await expect(schedule.get_by_role("list")).to_have_count(0)
    by_type = {t["type"]: t for t in await listed_triggers(live_server, token, workflow_id)}
    assert by_type["schedule"]["enabled"] is False
    assert by_type["schedule"]["cron"] == "0 9 2 1 *"
    assert by_type["schedule"]["input"] == {"from": "schedule"}
    assert by_type["schedule"]["overlap"] == "buffer_one"

    # Delete asks first; then the schedule is gone, the webhook stays.
    await schedule.get_by_role("button", name="Delete").click()
    await confirm_in_page(page, "Delete this schedule?", "Delete schedule")
    await expect(schedule).to_have_count(0)
    await expect(webhook).to_have_count(1)
    assert [t["type"] for t in await listed_triggers(live_server, token, workflow_id)] == [
        "webhook"
    ]

    # The webhook's run is in the run list with its badge, and in the run panel.
    await panel.get_by_role("button", name="Close").click()
    await page.goto(f"/workflows/{workflow_id}/runs")
    runs = page.get_by_role("table", name="Runs")
    row = runs.get_by_role("row").filter(
        has=page.get_by_role("link", name=f"Open run {execution_id}")
    )
    await expect(row.locator("[data-triggered-by]")).to_have_text("webhook", timeout=RUN_TIMEOUT)
    await expect(runs.locator('[data-triggered-by="manual"]')).to_have_count(1)
    await expect(runs.locator('[data-triggered-by="schedule"]')).to_have_count(
        1, timeout=RUN_TIMEOUT
    )
    await screenshot(page, "43-runs-badges")
    await row.get_by_role("link", name=f"Open run {execution_id}").click()
    await expect_run_status(page, "completed")
    side = page.get_by_role("complementary", name="Side panel")
    await expect(side.locator("[data-triggered-by]")).to_have_text("webhook")
    await expect(side.get_by_label("Run input")).to_contain_text('"from": "webhook"')
