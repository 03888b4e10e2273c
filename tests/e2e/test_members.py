"""Story 1.3 in the browser: members and their roles, custom roles with inheritance, and a
member's screen following a role change on their next page load, without signing in again."""

from __future__ import annotations

import uuid

from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.console import Console, axe_violations, screenshot, sign_in


def _no_violations(page: Page) -> None:
    found = axe_violations(page)
    assert found == [], found


def _row(page: Page, email: str) -> Locator:
    return page.get_by_test_id(f"member-{email}")


def _assign(page: Page, email: str, role: str) -> None:
    """Choose `role` in the member's "Add role" dropdown."""
    _row(page, email).locator(f'input[aria-label="Add a role to {email}"]').click()
    page.get_by_role("option", name=role, exact=True).click()
    expect(_row(page, email).get_by_test_id("member-roles")).to_contain_text(role)


def _unassign(page: Page, email: str, role: str) -> None:
    _row(page, email).get_by_role("button", name=f"Remove role {role} from {email}").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove role").click()
    expect(_row(page, email).get_by_test_id("member-roles")).not_to_contain_text(role)


def test_a_role_change_reaches_the_member_on_their_next_page_load(
    page: Page, browser: Browser, console: Console
) -> None:
    email = f"m-{uuid.uuid4().hex[:8]}@example.com"
    # The member signs in in a browser of their own: a new member with no roles.
    member_context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
    try:
        member = member_context.new_page()
        sign_in(member, console, email)
        expect(member.get_by_test_id("profile-roles")).to_contain_text("none")
        expect(member.get_by_role("link", name="Servers", exact=True)).to_have_count(0)

        sign_in(page, console, console.admin_email, return_to="/members")
        expect(page.get_by_role("heading", name="Members", level=1)).to_be_visible()
        expect(_row(page, email)).to_contain_text("no roles")
        _assign(page, email, "viewer")
        page.reload()  # the screen as it loads, without the notification
        expect(_row(page, email).get_by_test_id("member-roles")).to_contain_text("viewer")
        screenshot(page, "members")
        _no_violations(page)

        # Their session is the same one; the next page load asks the server again.
        member.reload()
        expect(member.get_by_role("link", name="Servers", exact=True)).to_be_visible()
        expect(member.get_by_test_id("profile-roles")).to_contain_text("viewer")
        expect(member.get_by_role("link", name="Members", exact=True)).to_have_count(0)

        _unassign(page, email, "viewer")
        member.reload()
        expect(member.get_by_test_id("user-menu")).to_be_visible()
        expect(member.get_by_role("link", name="Servers", exact=True)).to_have_count(0)
    finally:
        member_context.close()


def test_add_a_member_by_email_and_remove_them(page: Page, console: Console) -> None:
    email = f"add-{uuid.uuid4().hex[:8]}@example.com"
    sign_in(page, console, console.admin_email, return_to="/members")
    page.get_by_role("button", name="Add member").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Email").fill(email)
    dialog.get_by_label("Display name").fill("Added In Browser")
    dialog.get_by_role("button", name="Add member").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(_row(page, email)).to_contain_text("Added In Browser")

    # Adding them again: the API's problem is shown.
    page.get_by_role("button", name="Add member").click()
    dialog.get_by_label("Email").fill(email)
    dialog.get_by_role("button", name="Add member").click()
    expect(dialog.get_by_role("alert")).to_contain_text(f"{email} is already a member")
    dialog.get_by_role("button", name="Cancel").click()

    _row(page, email).get_by_role("button", name="Remove").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove member").click()
    expect(_row(page, email)).to_have_count(0)
    with console.api() as api:
        emails = [
            m["email"] for m in api.get("/api/v1/users", params={"limit": 200}).json()["items"]
        ]
    assert email not in emails


def test_taking_admin_from_the_last_admin_shows_why_not(page: Page, console: Console) -> None:
    with console.api() as api:
        members = api.get("/api/v1/users", params={"limit": 200}).json()["items"]
    admins = [m for m in members if "admin" in m["roles"]]
    sign_in(page, console, console.admin_email, return_to="/members")
    if len(admins) != 1:  # another test of the session made a second admin
        return
    page.get_by_role("button", name=f"Remove role admin from {admins[0]['email']}").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove role").click()
    expect(page.get_by_role("alert")).to_contain_text("Assign 'admin' to another member first.")
    expect(_row(page, console.admin_email).get_by_test_id("member-roles")).to_contain_text("admin")


def test_a_custom_role_with_inheritance_is_made_in_the_browser_and_granted(
    page: Page, browser: Browser, console: Console
) -> None:
    name = f"auditors-{uuid.uuid4().hex[:6]}"
    email = f"a-{uuid.uuid4().hex[:8]}@example.com"
    with console.api() as api:
        added = api.post("/api/v1/users", json={"email": email})
        assert added.status_code == 201, added.text

    sign_in(page, console, console.admin_email, return_to="/roles")
    expect(page.get_by_role("heading", name="Roles", level=1)).to_be_visible()
    expect(page.get_by_test_id("role-viewer")).to_contain_text("Servers: read")
    page.get_by_role("button", name="Create role").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill(name)
    dialog.get_by_label("Description").fill("Viewers who also read the audit log")
    dialog.get_by_placeholder("Roles it extends").click()
    page.get_by_role("option", name="viewer", exact=True).click()
    page.keyboard.press("Escape")
    expect(dialog.get_by_text("(inherited)").first).to_be_visible()
    dialog.get_by_role("checkbox", name="audit:read").check()
    dialog.get_by_role("button", name="Create role").click()
    expect(page.get_by_role("dialog")).to_have_count(0)

    row = page.get_by_test_id(f"role-{name}")
    expect(row).to_contain_text("viewer")
    expect(row).to_contain_text("Audit: read")
    with console.api() as api:
        role = api.get(f"/api/v1/roles/{name}").json()
    assert role["extends"] == ["viewer"]
    assert {"audit:read", "servers:read"} <= set(role["effective_permissions"])
    page.reload()
    expect(row).to_be_visible()
    screenshot(page, "roles")
    _no_violations(page)

    # Granted like any role; the member gets the inherited and the own permissions.
    page.goto(console.base + "/members")
    _assign(page, email, name)
    member_context = browser.new_context(bypass_csp=True)
    try:
        member = member_context.new_page()
        sign_in(member, console, email)
        expect(member.get_by_role("link", name="Servers", exact=True)).to_be_visible()
        expect(member.get_by_role("link", name="Audit log", exact=True)).to_be_visible()
    finally:
        member_context.close()

    # In use, it cannot be deleted: the problem says so. Unassigned, it can.
    page.goto(console.base + "/roles")
    row.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete role").click()
    expect(page.get_by_role("alert")).to_contain_text("is held by 1 member(s)")
    page.goto(console.base + "/members")
    _unassign(page, email, name)
    page.goto(console.base + "/roles")
    row.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete role").click()
    expect(row).to_have_count(0)


def test_roles_and_members_fit_a_phone(page: Page, console: Console) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, console, console.admin_email, return_to="/members")
    expect(page.get_by_role("table", name="Members")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(console.base + "/roles")
    expect(page.get_by_test_id("role-admin")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
