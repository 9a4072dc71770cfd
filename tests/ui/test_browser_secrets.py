"""The Secrets tab of a project, in a real Chromium against a live runloom.

Names and dates are shown; values go in and never come back out, neither on the page nor
from the API the page uses.
"""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.ui.helpers import (
    confirm_in_page,
    create_project,
    page_text,
    screenshot,
    session_token,
    sign_up,
)

pytestmark = pytest.mark.browser


async def listed_secrets(base_url: str, token: str, project_id: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        r = await client.get(
            f"/api/projects/{project_id}/secrets", headers={"Authorization": f"Bearer {token}"}
        )
    assert r.status_code == 200, r.text
    secrets = r.json()["secrets"]
    assert isinstance(secrets, list)
    return secrets


async def test_set_replace_and_delete_a_secret(page: Page, live_server: str) -> None:
    await sign_up(page)
    project_id = await create_project(page, "Vault")
    token = await session_token(page)

    # The project page has tabs; its overview stays the first one.
    tabs = page.get_by_role("tablist", name="Project sections")
    await expect(tabs.get_by_role("tab").first).to_have_text("Overview")
    await expect(tabs.get_by_role("tab", name="Overview")).to_have_attribute(
        "aria-selected", "true"
    )
    await expect(page.get_by_text("No workflows in this project")).to_be_visible()
    await tabs.get_by_role("tab", name="Secrets").click()
    await expect(page).to_have_url(re.compile(r"[?&]tab=secrets"))
    panel = page.get_by_role("tabpanel", name="Secrets")
    await expect(panel).to_contain_text("{{ secrets.NAME }}")
    await expect(panel).to_contain_text('secrets["NAME"]')
    await expect(panel.get_by_text("No secrets yet")).to_be_visible()

    # An invalid name shows what names look like, and nothing is saved.
    form = panel.get_by_role("form", name="Set a secret")
    name = form.get_by_label("Name", exact=True)
    value = form.get_by_label("Value", exact=True)
    await name.fill("api-token")
    await expect(name).to_have_attribute("aria-invalid", "true")
    hint = form.get_by_role("alert")
    await expect(hint).to_contain_text("capital letters")
    await expect(hint).to_contain_text("at most 64 characters")
    await value.fill("whatever")
    await form.get_by_role("button", name="Save secret").click()
    await expect(panel.get_by_role("table", name="Secrets")).to_have_count(0)
    assert await listed_secrets(live_server, token, project_id) == []
    await name.fill("1ST")
    await expect(hint).to_contain_text("cannot start with a digit")
    await screenshot(page, "20-secrets-invalid-name")

    # The hint offers the nearest valid name; a valid name clears the error.
    await name.fill("api-token")
    await form.get_by_role("button", name="Use API_TOKEN").click()
    await expect(name).to_have_value("API_TOKEN")
    await expect(name).not_to_have_attribute("aria-invalid", "true")

    first = f"first-{uuid.uuid4().hex}"
    await value.fill(first)
    await form.get_by_role("button", name="Save secret").click()
    table = panel.get_by_role("table", name="Secrets")
    await expect(table.get_by_role("cell", name="API_TOKEN", exact=True)).to_be_visible()
    await expect(panel.get_by_role("status").first).to_contain_text("API_TOKEN saved")
    await expect(value).to_have_value("")
    await expect(name).to_have_value("")
    assert first not in await page_text(page)
    listed = await listed_secrets(live_server, token, project_id)
    assert [s["name"] for s in listed] == ["API_TOKEN"]
    assert first not in str(listed)
    await screenshot(page, "21-secrets")

    # After a reload: the tab, the name and its dates, never the value.
    await page.reload()
    await expect(table.get_by_role("cell", name="API_TOKEN", exact=True)).to_be_visible()
    assert first not in await page_text(page)

    # Replace asks for a new value and keeps the name.
    await table.get_by_role("button", name="Replace API_TOKEN").click()
    dialog = page.get_by_role("dialog", name="Replace API_TOKEN")
    await expect(dialog.get_by_label("New value")).to_be_focused()
    second = f"second-{uuid.uuid4().hex}"
    await dialog.get_by_label("New value").fill(second)
    await dialog.get_by_role("button", name="Replace value").click()
    await expect(dialog).to_be_hidden()
    await expect(panel.get_by_role("status").first).to_contain_text("API_TOKEN replaced")
    after = await listed_secrets(live_server, token, project_id)
    assert [s["name"] for s in after] == ["API_TOKEN"]
    assert after[0]["updated_at"] != listed[0]["updated_at"]
    text = await page_text(page)
    assert first not in text and second not in text

    # Delete asks first; then the secret is gone, here and in the API.
    await table.get_by_role("button", name="Delete API_TOKEN").click()
    await confirm_in_page(page, "Delete the secret API_TOKEN?", "Delete secret")
    await expect(panel.get_by_text("No secrets yet")).to_be_visible()
    await expect(panel.get_by_role("status").first).to_contain_text("API_TOKEN deleted")
    assert await listed_secrets(live_server, token, project_id) == []
