"""The API keys page, in a real Chromium against a live runloom: a key is shown once, listed
by its prefix afterwards, limited to its project, and refused (401) once revoked."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.ui.helpers import confirm_in_page, create_project, page_text, screenshot, sign_up

pytestmark = pytest.mark.browser


async def test_create_copy_list_and_revoke_a_key(page: Page, live_server: str) -> None:
    await sign_up(page)
    project_id = await create_project(page, "Deploys")
    other_id = await create_project(page, "Elsewhere")

    nav = page.get_by_role("complementary", name="Main navigation")
    await nav.get_by_role("link", name="API keys").click()
    await expect(page).to_have_url(re.compile(r"/api-keys$"))
    await expect(page.get_by_role("heading", name="API keys", level=1)).to_be_visible()
    await expect(page.get_by_text("No API keys")).to_be_visible()

    form = page.get_by_role("form", name="Create an API key")
    project = form.get_by_label("Project", exact=True)
    await expect(project).to_have_value("")
    await expect(project.locator("option").first).to_have_text("All my projects")
    await form.get_by_label("Key name").fill("CI deploys")
    await project.select_option(label="Deploys")
    await expect(project).to_have_value(project_id)
    await form.get_by_role("button", name="Create key").click()

    # The key, once, with a copy button and a warning.
    created = page.get_by_role("region", name="New API key")
    await expect(created).to_contain_text("will not be shown again")
    key = await created.get_by_label("API key", exact=True).input_value()
    assert key.startswith("rl_"), key
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await created.get_by_role("button", name="Copy API key").click()
    await expect(created.get_by_text("Copied")).to_be_visible()
    assert await page.evaluate("navigator.clipboard.readText()") == key
    await screenshot(page, "30-api-key-created")

    table = page.get_by_role("table", name="API keys")
    row = table.get_by_role("row").filter(has_text="CI deploys")
    await expect(row.get_by_role("cell", name="Deploys", exact=True)).to_be_visible()

    # The key works, and only for its project.
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as client:
        auth = {"Authorization": f"Bearer {key}"}
        r = await client.get("/api/projects", headers=auth)
        assert r.status_code == 200, r.text
        assert [p["id"] for p in r.json()["projects"]] == [project_id]
        assert (await client.get(f"/api/projects/{other_id}", headers=auth)).status_code in (
            403,
            404,
        )

    # After a reload: only the prefix.
    await page.reload()
    await expect(row).to_be_visible()
    await expect(page.get_by_role("region", name="New API key")).to_have_count(0)
    prefix = (await row.locator("td.mono").inner_text()).strip().rstrip("…")
    assert len(prefix) >= 3 and key.startswith(prefix) and prefix != key, prefix
    assert key not in await page_text(page)
    await screenshot(page, "31-api-keys")

    # Revoke asks first; then the key is gone and refused.
    await row.get_by_role("button", name="Revoke CI deploys").click()
    await confirm_in_page(page, "Revoke the key “CI deploys”?", "Revoke key")
    await expect(row).to_have_count(0)
    await expect(page.get_by_text("No API keys")).to_be_visible()
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as client:
        r = await client.get("/api/projects", headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 401, r.text


async def test_a_key_for_all_projects_and_a_past_expiry(page: Page, live_server: str) -> None:
    await sign_up(page)
    await page.goto("/api-keys")
    form = page.get_by_role("form", name="Create an API key")
    await form.get_by_label("Key name").fill("laptop")
    expires = form.get_by_label("Expires on (optional)")
    await expires.fill("2020-01-01")
    await expect(form.get_by_role("alert")).to_contain_text("That day is over")
    await expect(form.get_by_role("button", name="Create key")).to_be_disabled()
    await expires.fill("")
    await form.get_by_role("button", name="Create key").click()
    created = page.get_by_role("region", name="New API key")
    key = await created.get_by_label("API key", exact=True).input_value()
    await expect(created).to_contain_text("All my projects")
    await created.get_by_role("button", name="Done").click()
    await expect(created).to_have_count(0)
    row = page.get_by_role("table", name="API keys").get_by_role("row").filter(has_text="laptop")
    await expect(row).to_contain_text("All my projects")
    await expect(row).to_contain_text("never")
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as client:
        r = await client.get("/api/projects", headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200, r.text
        assert len(r.json()["projects"]) >= 1
