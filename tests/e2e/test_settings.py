"""Organization settings and the platform operators' jobs screen, in the browser.

The tests share one organization with the rest of the browser tests: every setting a test
changes (time zone, egress allowlist) is put back as it was when the test ends.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import Engine, text

from tests.e2e.console import Console, axe_violations, screenshot, sign_in
from tests.integration.processes import cli_env, run_cli

NewContext = Callable[..., BrowserContext]


def _organization(console: Console) -> dict[str, Any]:
    with console.api() as api:
        answer = api.get("/api/v1/organization")
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


def _restore(console: Console, **settings: Any) -> None:
    with console.api() as api:
        answer = api.patch("/api/v1/organization", json=settings)
    assert answer.status_code == 200, answer.text


def _add_member(console: Console, role: str) -> str:
    email = f"{role}-{uuid.uuid4().hex[:8]}@e2e.example"
    with console.api() as api:
        made = api.post("/api/v1/users", json={"email": email, "roles": [role]})
    assert made.status_code == 201, made.text
    return email


def _settle(page: Page) -> None:
    """No pointer over a control (a hovered link has other colours) before axe looks."""
    page.mouse.move(1, 1)


def test_a_new_time_zone_is_saved(page: Page, console: Console) -> None:
    before = _organization(console)["time_zone"]
    zone = "Pacific/Auckland" if before != "Pacific/Auckland" else "Europe/Berlin"
    try:
        sign_in(page, console, console.admin_email, return_to="/settings")
        expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
        field = page.get_by_role("combobox", name="Time zone")
        expect(field).to_have_value(before)
        screenshot(page, "settings")
        _settle(page)
        assert axe_violations(page) == []

        field.click()
        field.fill(zone.split("/")[1][:5])
        page.get_by_role("option", name=zone, exact=True).click()
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.get_by_text("Organization settings saved")).to_be_visible()

        page.reload()
        expect(page.get_by_role("combobox", name="Time zone")).to_have_value(zone)
        assert _organization(console)["time_zone"] == zone
    finally:
        _restore(console, time_zone=before)


def test_egress_entries_are_added_and_removed_and_a_bad_one_is_refused(
    page: Page, console: Console
) -> None:
    before = _organization(console)["egress_allowlist"]
    entry = f"mcp-{uuid.uuid4().hex[:8]}.example.com"
    try:
        sign_in(page, console, console.admin_email, return_to="/settings?tab=egress")
        expect(page.get_by_role("tab", name="Egress allowlist")).to_have_attribute(
            "aria-selected", "true"
        )
        new_entry = page.get_by_label("New entry")

        new_entry.fill(entry)
        page.get_by_role("button", name="Add entry").click()
        row = page.get_by_test_id("allowlist-entry").filter(has_text=entry)
        expect(row).to_be_visible()
        expect(row).to_contain_text("Host name")
        expect(new_entry).to_have_value("")
        assert entry in _organization(console)["egress_allowlist"]
        _settle(page)
        assert axe_violations(page) == []

        # The API's own validation, shown at the entry.
        new_entry.fill("not a host!")
        page.get_by_role("button", name="Add entry").click()
        refusal = "not a host name, IP address or CIDR: 'not a host!'"
        expect(page.get_by_text(refusal)).to_be_visible()
        expect(new_entry).to_have_attribute("aria-invalid", "true")
        assert "not a host!" not in _organization(console)["egress_allowlist"]
        screenshot(page, "settings-egress")

        page.get_by_role("button", name=f"Remove {entry}").click()
        page.get_by_role("dialog").get_by_role("button", name="Remove", exact=True).click()
        expect(page.get_by_test_id("allowlist-entry").filter(has_text=entry)).to_have_count(0)
        assert entry not in _organization(console)["egress_allowlist"]
    finally:
        _restore(console, egress_allowlist=before)


def test_a_gateway_rate_limit_is_saved_and_a_bad_one_is_refused(
    page: Page, console: Console
) -> None:
    before = _organization(console)["gateway_limits"]["write"]
    limit = "45/minute" if before != "45/minute" else "46/minute"
    try:
        sign_in(page, console, console.admin_email, return_to="/settings")
        limits = page.get_by_test_id("gateway-limits")
        write = limits.get_by_role("textbox", name="Write", exact=True)
        expect(write).to_have_value(before)

        write.fill(limit)
        limits.get_by_role("button", name="Save rate limits").click()
        expect(page.get_by_text("Gateway rate limits saved")).to_be_visible()
        assert _organization(console)["gateway_limits"]["write"] == limit
        page.reload()
        expect(write).to_have_value(limit)

        # The API's own validation, shown beside the class it concerns.
        write.fill("lots per minute")
        limits.get_by_role("button", name="Save rate limits").click()
        expect(limits.get_by_text(re.compile(r"^not a rate limit"))).to_be_visible()
        expect(write).to_have_attribute("aria-invalid", "true")
        assert _organization(console)["gateway_limits"]["write"] == limit
        page.evaluate("window.scrollTo(0, 0)")  # the sticky header stays at the top
        screenshot(page, "settings-gateway-limits")
        _settle(page)
        assert axe_violations(page) == []
    finally:
        # No browser test sets the limits otherwise: back to the platform's default.
        _restore(console, gateway_limits={"write": None})


def test_the_identity_provider_tab_shows_the_redirect_uri(page: Page, console: Console) -> None:
    sign_in(page, console, console.admin_email, return_to="/settings?tab=identity")
    # The organization signs in through the development provider, set up at its first sign-in.
    expect(page.get_by_test_id("redirect-uri")).to_have_text(f"{console.base}/auth/callback")
    expect(page.get_by_test_id("login-url")).to_contain_text(f"org={console.org_slug}")
    first_group = page.get_by_role("textbox", name="Group 1", exact=True)
    expect(first_group).to_have_value(re.compile(r"engineers|viewers"))
    expect(page.get_by_label("Client secret")).to_have_attribute("placeholder", "set")
    expect(page.get_by_role("button", name="Remove provider")).to_be_visible()
    _settle(page)
    assert axe_violations(page) == []


def test_a_member_without_org_write_sees_the_settings_read_only(
    page: Page, new_context: NewContext, console: Console
) -> None:
    sign_in(page, console, console.admin_email, return_to="/settings")
    expect(page.get_by_role("button", name="Save", exact=True)).to_be_visible()
    # The admin is no platform operator: no Jobs screen for them.
    expect(page.get_by_role("link", name="Settings")).to_be_visible()
    expect(page.get_by_role("link", name="Jobs")).to_have_count(0)

    email = _add_member(console, "viewer")
    viewer = new_context().new_page()
    sign_in(viewer, console, email, return_to="/settings")
    expect(viewer.get_by_text("Read-only", exact=True)).to_be_visible()
    expect(viewer.get_by_label(re.compile(r"^Name"))).to_have_attribute("readonly", "")
    expect(viewer.get_by_role("button", name="Save", exact=True)).to_have_count(0)
    limits = viewer.get_by_test_id("gateway-limits")
    write_limit = limits.get_by_role("textbox", name="Write", exact=True)
    expect(write_limit).to_have_attribute("readonly", "")
    expect(limits.get_by_role("button")).to_have_count(0)

    viewer.get_by_role("tab", name="Egress allowlist").click()
    expect(viewer.get_by_label("New entry")).to_have_count(0)
    viewer.get_by_role("tab", name="Identity provider").click()
    expect(viewer.get_by_test_id("redirect-uri")).to_be_visible()
    expect(viewer.get_by_role("button", name="Save provider")).to_have_count(0)
    expect(viewer.get_by_role("button", name="Remove provider")).to_have_count(0)
    expect(viewer.get_by_role("link", name="Jobs")).to_have_count(0)
    _settle(viewer)
    assert axe_violations(viewer) == []


@pytest.fixture
def dead_jobs(admin_engine: Engine, console: Console) -> Iterator[Callable[[], int]]:
    """Dead discovery jobs of made-up discoveries, straight in procrastinate's table.

    A replay runs one at once: its discovery does not exist, so the run is skipped.
    """
    queue = f"sc-e2e-settings-{uuid.uuid4().hex[:8]}"

    def make() -> int:
        args = {
            "discovery_id": str(uuid.uuid4()),
            "server_id": str(uuid.uuid4()),
            "org_id": console.org_id,
        }
        with admin_engine.begin() as conn:
            job_id: int = conn.execute(
                text(
                    "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status,"
                    " attempts, sc_last_error) VALUES (:q, 'sc:discovery.run',"
                    " CAST(:a AS jsonb), 'failed', 5,"
                    " 'OperationalError: the database went away') RETURNING id"
                ),
                {"q": queue, "a": json.dumps(args)},
            ).scalar_one()
        return job_id

    yield make
    with admin_engine.begin() as conn:
        conn.execute(text("DELETE FROM procrastinate_jobs WHERE queue_name = :q"), {"q": queue})


def test_a_platform_operator_replays_and_discards_dead_jobs(
    new_context: NewContext,
    console: Console,
    database_url: str,
    dead_jobs: Callable[[], int],
) -> None:
    # A member who signed in once (their provider identity is linked), then made a platform
    # operator the way operators do it: the CLI, over the owner's connection.
    email = _add_member(console, "viewer")
    page = new_context().new_page()
    sign_in(page, console, email)
    expect(page.get_by_role("link", name="Jobs")).to_have_count(0)
    env = cli_env(console.data_dir, database_url)
    granted = run_cli("admin", "set-super-admin", email, env=env)
    assert granted.returncode == 0, granted.stderr
    try:
        replayed, discarded = dead_jobs(), dead_jobs()
        page.reload()
        page.get_by_role("link", name="Jobs").click()
        expect(page.get_by_role("heading", name="Background jobs", level=1)).to_be_visible()
        expect(page.get_by_test_id("stat-dead")).not_to_have_text("0")
        for job_id in (replayed, discarded):
            row = page.get_by_test_id("job-row").filter(
                has=page.get_by_role("button", name=f"Details of job {job_id}", exact=True)
            )
            expect(row).to_contain_text("dead letter")
            expect(row).to_contain_text("the database went away")
        screenshot(page, "jobs")
        _settle(page)
        assert axe_violations(page) == []

        page.get_by_role("button", name=f"Details of job {replayed}", exact=True).click()
        dialog = page.get_by_role("dialog")
        expect(dialog.get_by_test_id("job-last-error")).to_contain_text("the database went away")
        expect(dialog).to_contain_text("Attempts")
        expect(dialog).to_have_css("opacity", "1")  # faded in: axe reads the final colours
        _settle(page)
        assert axe_violations(page) == []
        dialog.get_by_role("button", name="Replay", exact=True).click()
        dialog.get_by_role("button", name="Replay now").click()
        expect(page.get_by_text(f"Job {replayed} queued again")).to_be_visible()
        page.keyboard.press("Escape")
        # Out of the dead letters: it ran again (and was skipped, its discovery is made up).
        expect(
            page.get_by_role("button", name=f"Details of job {replayed}", exact=True)
        ).to_have_count(0)

        page.get_by_role("button", name=f"Details of job {discarded}", exact=True).click()
        page.get_by_role("dialog").get_by_role("button", name="Discard", exact=True).click()
        page.get_by_role("dialog", name=f"Discard job {discarded}?").get_by_role(
            "button", name="Discard job"
        ).click()
        expect(page.get_by_text(f"Job {discarded} discarded")).to_be_visible()
        expect(
            page.get_by_role("button", name=f"Details of job {discarded}", exact=True)
        ).to_have_count(0)
    finally:
        revoked = run_cli("admin", "set-super-admin", email, "--revoke", env=env)
        assert revoked.returncode == 0, revoked.stderr


def test_the_settings_fit_a_phone(page: Page, console: Console) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, console, console.admin_email, return_to="/settings")
    for tab in ("General", "Egress allowlist", "Identity provider", "My notifications"):
        page.get_by_role("tab", name=tab).click()
        expect(page.get_by_role("tab", name=tab)).to_have_attribute("aria-selected", "true")
        expect(page.get_by_role("tabpanel")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, tab
