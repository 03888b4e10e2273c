"""Story 1.2 in the browser: create an API key, see it once, use it, revoke it."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.console import Console, axe_violations, screenshot, sign_in


def _me(console: Console, key: str) -> httpx.Response:
    with httpx.Client(base_url=console.base, timeout=30) as client:
        return client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})


def test_a_key_is_shown_once_works_and_stops_working_when_revoked(
    page: Page, console: Console
) -> None:
    name = f"ci-{uuid.uuid4().hex[:8]}"
    sign_in(page, console, console.admin_email, return_to="/api-keys")
    expect(page.get_by_role("heading", name="API keys", level=1)).to_be_visible()

    page.get_by_role("button", name="Create API key").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill(name)
    dialog.get_by_label("Description").fill("Created by the browser test")
    dialog.get_by_placeholder("Choose scopes").click()
    page.get_by_role("option", name="servers:read", exact=True).click()
    page.get_by_role("option", name="api_keys:read", exact=True).click()
    page.keyboard.press("Escape")  # close the scope list, not the dialog
    dialog.get_by_label("Expires in (days)").fill("30")
    dialog.get_by_role("button", name="Create key").click()

    secret = dialog.get_by_test_id("secret-value")
    expect(secret).to_contain_text("sc_")
    expect(dialog.get_by_text("You won't see it again")).to_be_visible()
    expect(dialog.get_by_role("button", name="Copy API key")).to_be_visible()
    screenshot(page, "api-key-created")
    assert axe_violations(page) == []
    key = secret.inner_text().strip()
    prefix = key.split("_")[1]

    # The key works: /me answers for it, with its scopes.
    me = _me(console, key)
    assert me.status_code == 200, me.text
    assert me.json()["credential"] == "api_key"
    assert me.json()["scopes"] == ["api_keys:read", "servers:read"]

    dialog.get_by_role("button", name="Done, I stored it").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    # Shown once: the page no longer has it anywhere.
    expect(page.get_by_text(key)).to_have_count(0)

    row = page.get_by_test_id(f"api-key-{prefix}")
    expect(row).to_contain_text(name)
    expect(row).to_contain_text(f"sc_{prefix}_…")
    expect(row).to_contain_text("servers:read")
    expect(row.get_by_test_id("key-status")).to_have_text("active")
    page.reload()  # last used, as the server now records it
    expect(row).to_be_visible()
    screenshot(page, "api-keys")
    assert axe_violations(page) == []

    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke key").click()
    expect(row.get_by_test_id("key-status")).to_have_text("revoked")
    expect(row.get_by_role("button", name="Revoke")).to_have_count(0)

    refused = _me(console, key)
    assert refused.status_code == 401
    assert refused.json()["type"].endswith("credentials-revoked")


def test_a_key_that_expires_within_a_week_is_marked(page: Page, console: Console) -> None:
    name = f"soon-{uuid.uuid4().hex[:8]}"
    with console.api() as api:
        made = api.post(
            "/api/v1/api-keys",
            json={"name": name, "scopes": ["servers:read"], "expires_in_days": 3},
        )
        assert made.status_code == 201, made.text
        prefix = made.json()["api_key"]["prefix"]
    sign_in(page, console, console.admin_email, return_to="/api-keys")
    row = page.get_by_test_id(f"api-key-{prefix}")
    expect(row.get_by_text("Expires soon")).to_be_visible()
    expect(page.get_by_text(re.compile(r"expires? within 7 days"))).to_be_visible()
    assert axe_violations(page) == []


def test_the_form_refuses_a_key_without_name_or_scopes(page: Page, console: Console) -> None:
    sign_in(page, console, console.admin_email, return_to="/api-keys")
    page.get_by_role("button", name="Create API key").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Create key").click()
    expect(dialog.get_by_text("Give the key a name.")).to_be_visible()
    expect(dialog.get_by_text("Choose at least one scope.")).to_be_visible()
    expect(dialog.get_by_test_id("secret-value")).to_have_count(0)


def test_the_key_list_fits_a_phone(page: Page, console: Console) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, console, console.admin_email, return_to="/api-keys")
    expect(page.get_by_role("table", name="API keys")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
