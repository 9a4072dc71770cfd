"""The worker states a user can trust: a project with nothing deployed has no worker and
says so, buttons are offered only where they make sense, a failure shows why and when,
and nothing says "idle" while it is still loading."""

from __future__ import annotations

import asyncio
import json
import re

from playwright.async_api import Page, Route, expect

from tests.ui.helpers import Api, create_project, create_workflow, screenshot, sign_up

STDERR = "\n".join(
    [f"noise {i}" for i in range(20)]
    + ["ValueError: At least one activity or workflow must be specified"]
)


async def test_an_empty_project_has_no_worker_and_says_so(page: Page, live_server: str) -> None:
    await sign_up(page)
    project_id = await create_project(page, "Nothing yet")
    api = await Api.of(page, live_server)

    indicator = page.get_by_role("button", name="Worker: no workflow deployed yet")
    await expect(indicator).to_have_attribute("data-tone", "grey")
    registry = page.get_by_role("group", name="Manage worker")
    for label in ("Start worker", "Stop worker", "Restart worker"):
        await expect(registry.get_by_role("button", name=label, exact=True)).to_be_disabled()
    await expect(registry).to_contain_text("No workflow deployed yet")

    # Asked anyway, the API refuses with the reason, and no worker row appears.
    refused = await api.call("POST", f"/api/projects/{project_id}/workers/start", 409)
    assert "no workflow deployed yet" in refused["detail"]
    await asyncio.sleep(1.5)
    assert (await api.call("GET", f"/api/projects/{project_id}/workers"))["workers"] == []

    # The dashboard card says the same, with every action off.
    await page.goto("/projects")
    card = page.get_by_role("listitem", name="Project Nothing yet")
    await expect(card.get_by_role("img", name="Worker no workflow deployed yet")).to_be_visible()
    for label in ("Start worker", "Stop worker", "Restart worker"):
        await expect(card.get_by_role("button", name=label, exact=True)).to_be_disabled()

    # A brand-new workflow does not open with a red "Worker failed" badge.
    await create_workflow(page, project_id, "Fresh")
    await expect(indicator).to_have_attribute("data-tone", "grey")
    await expect(page.get_by_role("button", name="Worker: failed")).to_have_count(0)
    await indicator.click()
    details = page.get_by_role("dialog", name="Worker details")
    await expect(details).to_contain_text("No workflow deployed yet, so there is no worker")
    await screenshot(page, "worker-nothing-deployed")


async def test_the_badge_says_checking_not_idle_while_it_loads(page: Page) -> None:
    await sign_up(page)
    project_id = await create_project(page, "Slow")
    await create_workflow(page, project_id, "Waiting")  # the builder shows the badge
    release = asyncio.Event()

    async def slow(route: Route) -> None:
        await release.wait()
        await route.continue_()

    await page.route(re.compile(rf"/api/projects/{project_id}$"), slow)
    await page.reload()
    badge = page.get_by_role("button", name=re.compile(r"^Worker: "))
    await expect(badge).to_have_attribute("aria-label", "Worker: checking…")
    await expect(page.get_by_role("button", name=re.compile("idle"))).to_have_count(0)
    release.set()
    await expect(badge).to_have_attribute("aria-label", "Worker: no workflow deployed yet")


async def test_a_failed_worker_shows_why_when_and_its_stderr(page: Page) -> None:
    await sign_up(page)
    project_id = await create_project(page, "Broken")

    # A worker that crash-looped, as the registry records one (the manager itself no
    # longer starts a worker for nothing, so the row is shown as a deployed project's).
    async def failed(route: Route) -> None:
        response = await route.fetch()
        body = await response.json()
        body["project"]["deployed_workflow_count"] = 1
        body["project"]["workers"] = [
            {
                "id": "00000000-0000-0000-0000-000000000001",
                "worker_id": "worker-broken",
                "status": "failed",
                "host": "box",
                "process_id": None,
                "started_at": "2025-01-01T10:00:00Z",
                "stopped_at": "2025-01-01T10:00:03Z",
                "last_heartbeat": None,
                "cpu_usage_percent": None,
                "memory_usage_mb": None,
                "total_tasks_completed": 0,
                "total_tasks_failed": 0,
                "metadata": {
                    "reason": "crash_loop",
                    "error": "exit code 1; gave up after 6 consecutive failures",
                    "stderr_tail": STDERR,
                },
            }
        ]
        await route.fulfill(response=response, body=json.dumps(body))

    await page.route(re.compile(rf"/api/projects/{project_id}$"), failed)
    await page.reload()
    badge = page.get_by_role("button", name="Worker: failed")
    await expect(badge).to_have_attribute("data-tone", "red")
    await badge.click()
    why = page.get_by_role("dialog", name="Worker details").get_by_role(
        "group", name="Why the worker failed"
    )
    await expect(why).to_contain_text("gave up after 6 consecutive failures")
    await expect(why.locator("time")).to_have_attribute("datetime", "2025-01-01T10:00:03Z")
    stderr = why.get_by_label("Last lines of the worker's stderr")
    await expect(stderr).to_contain_text("At least one activity")
    await expect(stderr).not_to_contain_text("noise 0")
    # Only Start makes sense for a worker that is not running.
    controls = page.get_by_role("dialog", name="Worker details").get_by_role(
        "group", name="Manage worker"
    )
    await expect(controls.get_by_role("button", name="Start worker", exact=True)).to_be_enabled()
    await expect(controls.get_by_role("button", name="Stop worker", exact=True)).to_be_disabled()
    await expect(controls.get_by_role("button", name="Restart worker", exact=True)).to_be_disabled()

    # A start that fails says why, and the buttons come back.
    async def unavailable(route: Route) -> None:
        await route.fulfill(
            status=503,
            content_type="application/json",
            body=json.dumps({"detail": "no worker running for project within 15 s"}),
        )

    await page.route(re.compile(rf"/api/projects/{project_id}/workers/start$"), unavailable)
    await controls.get_by_role("button", name="Start worker", exact=True).click()
    await expect(controls.get_by_role("alert")).to_contain_text("no worker running")
    await expect(controls.get_by_role("button", name="Start worker", exact=True)).to_be_enabled()
    await screenshot(page, "worker-failed-details")
