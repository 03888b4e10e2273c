"""Story 6.1 in the browser: search the log, open an entry, follow an actor, verify, export."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

from tests.e2e.console import Console, axe_violations, screenshot, sign_in


def _made_key(console: Console) -> tuple[str, str]:
    """An API key made through the API: its audit entry carries a word found nowhere else."""
    word = f"audit{uuid.uuid4().hex[:12]}"
    with console.api() as client:
        made = client.post(
            "/api/v1/api-keys",
            json={"name": f"key {word}", "scopes": ["servers:read"], "expires_in_days": 1},
        )
        assert made.status_code == 201, made.text
    return word, made.json()["api_key"]["id"]


def _search(page: Page, *, q: str = "", action: str = "") -> None:
    page.get_by_label("Search").fill(q)
    page.get_by_label("Action", exact=True).fill(action)
    page.get_by_role("button", name="Apply filters").click()


def test_search_by_action_and_text_and_open_an_entry(page: Page, console: Console) -> None:
    word, key_id = _made_key(console)
    sign_in(page, console, console.admin_email, return_to="/audit")
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    table = page.get_by_role("table", name="Audit entries")
    expect(table).to_be_visible()

    _search(page, q=word, action="org:api_key:created")
    expect(page).to_have_url(re.compile(r"action=org%3Aapi_key%3Acreated"))
    rows = page.get_by_test_id("audit-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("org:api_key:created")
    screenshot(page, "audit")
    assert axe_violations(page) == []

    rows.first.get_by_role("button", name=re.compile("^Open entry")).click()
    entry = page.get_by_test_id("audit-entry")
    expect(entry).to_be_visible()
    expect(entry.get_by_test_id("entry-details")).to_contain_text(word)
    expect(entry).to_contain_text(key_id)

    # The same entry found by its target's id, and nothing found by a word nobody wrote.
    page.get_by_role("button", name="Close the entry").click()
    _search(page, q=key_id)
    expect(rows).to_have_count(1)
    _search(page, q=f"nothing{uuid.uuid4().hex[:10]}")
    expect(page.get_by_test_id("empty-state")).to_contain_text("No entries match")


def test_clicking_an_actor_shows_all_their_activity(page: Page, console: Console) -> None:
    word, _ = _made_key(console)
    sign_in(page, console, console.admin_email, return_to="/audit")
    _search(page, q=word)
    row = page.get_by_test_id("audit-row").first
    expect(row).to_contain_text("org:api_key:created")
    # The key was made with the admin's bootstrap API key; its owner is the admin.
    with page.expect_request(re.compile(r"/api/v1/audit/events\?.*actor_id=")) as sent:
        row.locator("td").nth(1).get_by_role("button").click()
    expect(page.get_by_test_id("actor-filter")).to_contain_text("Activity of")
    assert word in sent.value.url  # the other filters stay
    # The admin's own sign-in to this browser is among their activity too.
    page.get_by_label("Search").fill("")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_test_id("audit-row").first).to_be_visible()
    expect(page.get_by_test_id("actor-filter")).to_be_visible()
    expect(page).to_have_url(re.compile(r"actor_id="))


def test_verify_the_log(page: Page, console: Console) -> None:
    _made_key(console)
    sign_in(page, console, console.admin_email, return_to="/audit")
    page.get_by_role("button", name="Verify log").click()
    result = page.get_by_test_id("verify-result")
    expect(result).to_contain_text("The log is intact")
    expect(result).to_contain_text(re.compile(r"\d+ (entry|entries) checked"))
    screenshot(page, "audit-verify")
    assert axe_violations(page) == []


def test_export_downloads_the_filtered_entries(page: Page, console: Console) -> None:
    word, key_id = _made_key(console)
    sign_in(page, console, console.admin_email, return_to="/audit")
    # The export is itself audited, with the filters: narrow it to the key's creation.
    _search(page, q=word, action="org:api_key:created")
    expect(page.get_by_test_id("audit-row")).to_have_count(1)
    page.get_by_role("button", name="Export").click()
    with page.expect_download() as started:
        page.get_by_role("menuitem", name="CSV").click()
    download = started.value
    assert download.suggested_filename.endswith(".csv")
    path = download.path()
    text = path.read_text(encoding="utf-8")
    lines = text.strip().splitlines()
    assert lines[0].startswith("id,seq,occurred_at,action,outcome")
    assert len(lines) == 2, text
    assert key_id in lines[1]
    assert word in lines[1]


def test_the_audit_log_fits_a_phone(page: Page, console: Console) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, console, console.admin_email, return_to="/audit")
    expect(page.get_by_test_id("audit-row").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_test_id("audit-row").first.get_by_role("button", name=re.compile("^Open")).click()
    expect(page.get_by_test_id("audit-entry")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_audit_log_reads_well_in_the_dark_theme(page: Page, console: Console) -> None:
    page.emulate_media(color_scheme="dark")
    sign_in(page, console, console.admin_email, return_to="/audit")
    expect(page.get_by_test_id("audit-row").first).to_be_visible()
    page.get_by_role("button", name="Verify log").click()
    expect(page.get_by_test_id("verify-result")).to_be_visible()
    screenshot(page, "audit-dark")
    assert axe_violations(page) == []
