"""Stories 3.1 and 3.2 in the browser: find servers by capability, see why each matched, filter
them, share the search by its address, and see how many your access rules hid."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any
from urllib.parse import quote

from playwright.sync_api import Page, expect

from tests.e2e.console import Console, axe_violations, screenshot, sign_in
from tests.fixtures.mcp_servers import McpFixture


def register_discovered(console: Console, mcp: McpFixture, **extra: Any) -> dict[str, Any]:
    """A server on ``mcp`` (whose one tool is ``echo``), registered and discovered."""
    with console.api() as api:
        made = api.post("/api/v1/servers", json=mcp.registration(**extra))
        assert made.status_code == 201, made.text
        server: dict[str, Any] = made.json()["server"]
        done = api.post(
            f"/api/v1/servers/{server['id']}/discoveries",
            params={"wait": "true", "wait_timeout": 60},
        )
        assert done.status_code in (200, 202), done.text
        discovery = done.json()
        deadline = time.monotonic() + 90
        while discovery["status"] in ("queued", "in_progress") and time.monotonic() < deadline:
            time.sleep(0.5)
            discovery = api.get(f"/api/v1/discoveries/{discovery['id']}").json()
        assert discovery["status"] == "succeeded", discovery
    return server


def add_member(console: Console, role: str) -> str:
    email = f"{role}-{uuid.uuid4().hex[:8]}@e2e.example"
    with console.api() as api:
        made = api.post("/api/v1/users", json={"email": email, "roles": [role]})
    assert made.status_code == 201, made.text
    return email


def result(page: Page, name: str) -> Any:
    return page.locator("article").filter(has=page.get_by_role("link", name=name, exact=True))


def test_search_by_tool_name_shows_why_each_server_matched_and_filters_narrow_it(
    page: Page, console: Console, mcp_open: McpFixture
) -> None:
    tag = f"search-{uuid.uuid4().hex[:8]}"
    staging = register_discovered(console, mcp_open, environment="staging", tags=[tag])
    development = register_discovered(console, mcp_open, environment="development", tags=[tag])

    sign_in(page, console, console.admin_email, return_to="/search")
    expect(page.get_by_role("heading", level=1, name="Find servers")).to_be_visible()
    page.get_by_label("Capabilities", exact=True).fill("echo")
    page.get_by_label("Tags").fill(tag)

    for server in (staging, development):
        card = result(page, server["name"])
        expect(card).to_be_visible()
        expect(card.get_by_text("echo", exact=True)).to_be_visible()
        expect(card.get_by_test_id("match-reason")).to_have_text("matches “echo” by its name")
    expect(page.get_by_test_id("search-summary")).to_contain_text("2 servers offer “echo”")
    expect(page).to_have_url(re.compile(r"[?&]q=echo"))
    screenshot(page, "search")
    violations = axe_violations(page)
    assert violations == [], violations

    page.get_by_label("Environment").fill("development")
    expect(result(page, development["name"])).to_be_visible()
    expect(result(page, staging["name"])).to_have_count(0)
    expect(page).to_have_url(re.compile(r"environment=development"))

    # Exact names only: the tool is called echo, so the server stays.
    page.get_by_text("Exact name", exact=True).click()
    expect(page).to_have_url(re.compile(r"match=exact"))
    expect(result(page, development["name"])).to_be_visible()

    page.get_by_label("Capabilities", exact=True).fill(f"no_such_tool_{tag.replace('-', '_')}")
    expect(page.get_by_test_id("empty-state")).to_contain_text("No server you may see offers")


def test_a_shared_search_shows_a_viewer_how_many_servers_were_hidden(
    page: Page, console: Console, mcp_open: McpFixture
) -> None:
    tag = f"hidden-{uuid.uuid4().hex[:8]}"
    visible = register_discovered(console, mcp_open, environment="staging", tags=[tag])
    hidden = register_discovered(console, mcp_open, environment="production", tags=[tag])
    viewer = add_member(console, "viewer")

    # A viewer lacks servers:production: the production server is hidden, and counted.
    sign_in(page, console, viewer, return_to=quote(f"/search?q=echo&tags={tag}", safe="/"))
    expect(page.get_by_label("Capabilities", exact=True)).to_have_value("echo")
    expect(result(page, visible["name"])).to_be_visible()
    expect(result(page, hidden["name"])).to_have_count(0)
    expect(page.get_by_test_id("hidden-by-policy")).to_contain_text("1 server hidden by policy")
    assert axe_violations(page) == []


def test_search_fits_a_phone(page: Page, console: Console) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, console, console.admin_email, return_to="/search?q=echo")
    expect(page.get_by_role("heading", level=1, name="Find servers")).to_be_visible()
    expect(page.get_by_test_id("search-summary")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
