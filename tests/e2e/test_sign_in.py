"""Story 1.1 in the browser: sign in, the profile, sign out, a session that ends."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.console import Console, axe_violations, screenshot, sign_in


def test_sign_in_shows_the_profile_and_sign_out_ends_the_session(
    page: Page, console: Console
) -> None:
    page.goto(console.base + "/")
    expect(page.get_by_role("heading", name="SprintConnect")).to_be_visible()
    page.get_by_label("Organization").fill(console.org_slug)
    page.get_by_role("button", name="Continue to sign-in").click()
    page.locator('input[name="sub"]').fill(console.admin_email)
    page.get_by_role("button", name="Authorize").click()

    expect(page.get_by_test_id("profile-email")).to_have_text(console.admin_email)
    expect(page.get_by_test_id("profile-org")).to_contain_text(console.org_slug)
    expect(page.get_by_test_id("profile-roles")).to_contain_text("admin")
    screenshot(page, "overview")
    assert axe_violations(page) == []

    page.get_by_test_id("user-menu").click()
    page.get_by_role("menuitem", name="Sign out").click()
    # The provider's end-session page: its session ends too.
    page.wait_for_url(lambda url: not url.startswith(console.base))
    assert page.context.request.get(console.base + "/api/v1/me").status == 401
    page.goto(console.base + "/")
    expect(page.get_by_role("button", name="Continue to sign-in")).to_be_visible()


def test_a_deep_link_comes_back_after_sign_in(page: Page, console: Console) -> None:
    sign_in(page, console, console.admin_email, return_to="/api-keys")
    expect(page).to_have_url(re.compile(r"/api-keys$"))


def test_an_ended_session_asks_to_sign_in_again(page: Page, console: Console) -> None:
    sign_in(page, console, console.admin_email)
    _end_session_elsewhere(page, console)
    # A screen that calls the API while the console is open: a dialog, nothing navigates away.
    page.get_by_role("link", name="Servers", exact=True).click()
    dialog = page.get_by_role("dialog", name="Your session ended")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("link", name="Sign in again")).to_have_attribute(
        "href", re.compile(r"/auth/login\?")
    )
    screenshot(page, "session-ended")
    # Loading the console with the ended session: the sign-in screen says why.
    page.reload()
    expect(page.get_by_role("alert")).to_contain_text("Your session ended")
    page.get_by_role("link", name="Sign in again").click()
    page.locator('input[name="sub"]').fill(console.admin_email)
    page.get_by_role("button", name="Authorize").click()
    expect(page.get_by_test_id("user-menu")).to_be_visible()


def test_the_console_fits_a_phone(page: Page, console: Console) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, console, console.admin_email)
    page.get_by_role("button", name="Open navigation").click()
    expect(page.get_by_role("link", name="Servers", exact=True)).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    screenshot(page, "overview-phone")


def _end_session_elsewhere(page: Page, console: Console) -> None:
    """Sign this browser's session out from another client, leaving the browser its cookie."""
    cookie = next(c for c in page.context.cookies() if c["name"].endswith("sc_session"))
    jar = {cookie["name"]: cookie["value"]}
    with httpx.Client(base_url=console.base, cookies=jar) as other:
        csrf = other.get("/auth/session").json()["csrf_token"]
        assert other.post("/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
