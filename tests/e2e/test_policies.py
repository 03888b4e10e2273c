"""Policies in the browser (stories 3.2 and 8.2): the current text highlighted, a rejected text's
problems where they are, publishing, the history and a diff between versions, a rollback, and a
dry-run's decision. Every policy here forbids only a role nobody holds, so the organization the
other browser tests share keeps behaving as before."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect

from tests.e2e.console import Console, axe_violations, screenshot, sign_in


def current_version(console: Console) -> int:
    with console.api() as api:
        answer = api.get("/api/v1/policies")
    assert answer.status_code == 200, answer.text
    version: int = answer.json()["version"]
    return version


def harmless(suffix: str, role: str) -> str:
    return (
        f"// Nobody holds {role}.\n"
        f'@id("e2e-{suffix}")\n'
        f'forbid (principal in Role::"{role}", action == Action::"servers:write", resource)\n'
        "when { context.minute_of_day >= 0 };\n"
    )


def close_messages(page: Page) -> None:
    """Close the success messages, which would cover the screenshot."""
    for button in page.get_by_role("button", name="Close the message").all():
        button.click()
    expect(page.get_by_role("button", name="Close the message")).to_have_count(0)


def publish(page: Page, text: str, note: str) -> None:
    editor = page.get_by_label("Policy text", exact=True)
    editor.fill(text)
    page.get_by_label("Note", exact=True).fill(note)
    page.get_by_role("button", name="Publish").click()


def test_publish_is_checked_in_place_then_versions_diff_and_roll_back(
    page: Page, console: Console
) -> None:
    before = current_version(console)
    role = f"nobody-{uuid.uuid4().hex[:8]}"
    first = harmless("first", role)
    second = first + "\n" + harmless("second", role).replace("servers:write", "health:write")

    sign_in(page, console, console.admin_email, return_to="/policies")
    expect(page.get_by_role("heading", level=1, name="Policies")).to_be_visible()
    page.get_by_role("button", name="Edit policy").or_(
        page.get_by_role("button", name="Write a policy")
    ).click()

    # An attribute the schema does not know: refused, and shown on the policy it is about.
    publish(
        page,
        '@id("e2e-bad")\nforbid (principal, action, resource)\nwhen { principal.nope == 1 };',
        "Broken on purpose",
    )
    expect(page.get_by_label("Policy text", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("policy-problems")).to_contain_text("nope")
    problem = page.get_by_test_id("policy-preview").get_by_test_id("line-problem")
    expect(problem).to_contain_text("Problem on line 3")
    expect(problem).to_contain_text("nope")
    assert current_version(console) == before

    publish(page, first, "First harmless rule")
    expect(page.get_by_text(f"Version {before + 1} is now in force.")).to_be_visible()
    expect(page.get_by_role("heading", name=f"Version {before + 1}")).to_be_visible()

    page.get_by_role("button", name="Edit policy").click()
    publish(page, second, "Second harmless rule")
    expect(page.get_by_role("heading", name=f"Version {before + 2}")).to_be_visible()
    code = page.get_by_test_id("policy-text")
    expect(code).to_contain_text('@id("e2e-second")')
    expect(code.locator(".cedar-keyword").first).to_have_text("forbid")
    expect(code.locator(".cedar-entity").first).to_have_text(f'Role::"{role}"')
    expect(code.locator(".cedar-comment").first).to_have_text(f"// Nobody holds {role}.")
    close_messages(page)
    screenshot(page, "policies")
    violations = axe_violations(page)
    assert violations == [], violations

    page.get_by_role("tab", name="History").click()
    newest = page.get_by_test_id(f"version-{before + 2}")
    expect(newest).to_contain_text("in force")
    expect(newest).to_contain_text("Second harmless rule")
    expect(newest).to_contain_text("(you)")
    newest.get_by_role("button", name=f"Changes in version {before + 2}").click()

    expect(page.get_by_label("From version", exact=True)).to_have_value(str(before + 1))
    expect(page.get_by_label("To version", exact=True)).to_have_value(str(before + 2))
    diff = page.get_by_test_id("policy-diff")
    expect(diff.get_by_test_id("diff-added").filter(has_text='@id("e2e-second")')).to_have_count(1)
    expect(diff.get_by_test_id("diff-removed")).to_have_count(0)
    expect(page.get_by_test_id("diff-stats")).to_contain_text("+5 added")
    screenshot(page, "policy-diff")
    violations = axe_violations(page)
    assert violations == [], violations

    page.get_by_role("tab", name="History").click()
    page.get_by_role("button", name=f"Roll back to version {before + 1}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Roll back to version {before + 1}?")
    dialog.get_by_role("button", name=f"Roll back to v{before + 1}").click()
    expect(
        page.get_by_text(f"version {before + 3} has the text of version {before + 1}")
    ).to_be_visible()
    rolled = page.get_by_test_id(f"version-{before + 3}")
    expect(rolled).to_contain_text("in force")
    expect(rolled).to_contain_text(f"Rollback to version {before + 1}")
    assert current_version(console) == before + 3


def test_a_dry_run_shows_the_decision_and_the_policies_behind_it(
    page: Page, console: Console
) -> None:
    viewer = f"viewer-{uuid.uuid4().hex[:8]}@e2e.example"
    with console.api() as api:
        made = api.post("/api/v1/users", json={"email": viewer, "roles": ["viewer"]})
    assert made.status_code == 201, made.text

    sign_in(page, console, console.admin_email, return_to="/policies?tab=dry-run")
    page.get_by_label("Action").select_option("servers:write")
    page.get_by_label("Resource id").fill("payments")
    page.get_by_label("Environment").fill("staging")
    page.get_by_role("button", name="Decide").click()
    decision = page.get_by_test_id("dry-run-decision")
    expect(decision).to_contain_text("Allowed")
    expect(decision).to_contain_text("base:allow")

    # A viewer may not change servers: the role rule decides.
    page.get_by_label("Member").select_option(label=f"{viewer} (viewer)")
    page.get_by_role("button", name="Decide").click()
    expect(decision).to_contain_text("Denied")
    expect(decision).to_contain_text("base:rbac")
    violations = axe_violations(page)
    assert violations == [], violations
