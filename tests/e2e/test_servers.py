"""Stories 2.1 and 2.3 (the list) in the browser: register a real MCP server through the form,
check its connection, find it in the list with its health, edit it, delete it; the list of an
organization with hundreds of servers, paged and filtered by the API."""

from __future__ import annotations

import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.console import Console, axe_violations, screenshot, sign_in
from tests.fixtures.mcp_servers import McpFixture
from tests.integration.processes import free_port


def _no_axe_violations(page: Page) -> None:
    page.mouse.move(0, 0)  # what the pointer last clicked shows its hover colours, not its own
    # Mid-transition (a modal fading in, a notification sliding) colours are not the real ones.
    page.wait_for_function("document.getAnimations().length === 0")
    found = axe_violations(page)
    if found:
        # What failed, with the markup and axe's summary, to fix it from the test output.
        detail = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".filter(v => ['serious', 'critical'].includes(v.impact))"
            ".flatMap(v => v.nodes.slice(0, 5).map(n => [v.id, n.html.slice(0, 200),"
            " n.failureSummary.slice(0, 300)]))"
        )
        pytest.fail(json.dumps({"found": found, "again": detail}, indent=1))


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _open_register(page: Page) -> Locator:
    page.get_by_role("button", name="Register a server").first.click()
    dialog = page.get_by_role("dialog", name="Register a server")
    expect(dialog).to_be_visible()
    return dialog


def _fill(dialog: Locator, name: str, url: str, environment: str = "staging") -> None:
    dialog.get_by_label("Name").fill(name)
    environment_input = dialog.get_by_role("combobox", name="Environment")
    environment_input.fill(environment)
    environment_input.press("Escape")  # close the suggestions
    dialog.get_by_label("URL").fill(url)


def _search(page: Page, text: str) -> None:
    page.get_by_label("Search").fill(text)


def _row(page: Page, name: str) -> Locator:
    return page.get_by_test_id("server-row").filter(
        has=page.get_by_role("link", name=name, exact=True)
    )


def test_register_check_find_edit_and_delete_a_server(
    page: Page, console: Console, mcp_open: McpFixture
) -> None:
    name = _unique("e2e-open")
    sign_in(page, console, console.admin_email, return_to="/servers")
    expect(page.get_by_role("heading", name="Servers", level=1)).to_be_visible()

    dialog = _open_register(page)
    _fill(dialog, name, "ftp://mcp.example.com/mcp")
    # The URL is checked as it is typed: the scheme, then credentials in it.
    expect(dialog.get_by_text("The URL must start with https:// or http://.")).to_be_visible()
    dialog.get_by_label("URL").fill("http://ada:secret@127.0.0.1/mcp")
    expect(dialog.get_by_text(re.compile("Don't put credentials in the URL"))).to_be_visible()
    _no_axe_violations(page)  # errors are readable too
    dialog.get_by_label("URL").fill(mcp_open.url)
    expect(dialog.get_by_text(re.compile("Don't put credentials"))).to_be_hidden()
    dialog.get_by_label("Tags").fill("e2e")
    dialog.get_by_label("Tags").press("Enter")
    dialog.get_by_label("Description").fill("The open fixture")
    screenshot(page, "server-register")
    _no_axe_violations(page)

    dialog.get_by_role("button", name="Register", exact=True).click()
    done = page.get_by_role("dialog", name="Server registered")
    expect(done.get_by_text(f"{name} is registered")).to_be_visible()
    expect(done.get_by_test_id("registered-id")).to_have_text(re.compile(r"^[0-9a-f-]{36}$"))
    expect(done.get_by_text(re.compile("Check connectivity and credentials"))).to_be_visible()
    done.get_by_role("button", name="Check connection").click()
    result = done.get_by_test_id("connection-check-result")
    expect(result).to_contain_text("Connected")
    expect(result).to_contain_text("ms")
    page.mouse.move(0, 0)
    screenshot(page, "connection-check")
    _no_axe_violations(page)
    done.get_by_role("button", name="Done").click()
    expect(done).to_be_hidden()

    # In the list, with its metadata and a health indicator.
    _search(page, name)
    row = _row(page, name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("staging")
    expect(row).to_contain_text("Streamable HTTP")
    expect(row).to_contain_text("e2e")
    expect(row.locator("[data-health]")).to_have_attribute(
        "data-health", re.compile("^(healthy|degraded|unhealthy|unknown)$")
    )
    expect(row.locator("[data-health]")).to_have_text(
        re.compile("^(Healthy|Degraded|Unhealthy|Unknown)$")
    )
    _no_axe_violations(page)

    # A second server with the same name in the same environment: said as the name is typed.
    dialog = _open_register(page)
    _fill(dialog, name, mcp_open.url)
    expect(dialog.get_by_text(re.compile(r"already exists in staging"))).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()

    # Edit the description.
    row.get_by_role("button", name=f"Edit {name}").click()
    edit = page.get_by_role("dialog", name=f"Edit {name}")
    edit.get_by_label("Description").fill("Changed in the console")
    edit.get_by_role("button", name="Save").click()
    expect(edit).to_be_hidden()
    with console.api() as api:
        found = api.get("/api/v1/servers", params={"name": name}).json()["items"]
    assert [s["description"] for s in found] == ["Changed in the console"]

    # Delete it, after a confirmation.
    row.get_by_role("button", name=f"Delete {name}").click()
    confirm = page.get_by_role("dialog", name=f"Delete {name}?")
    confirm.get_by_role("button", name="Delete server").click()
    expect(_row(page, name)).to_have_count(0)
    expect(page.get_by_test_id("empty-state")).to_contain_text("No servers match these filters.")
    with console.api() as api:
        assert api.get("/api/v1/servers", params={"name": name}).json()["items"] == []


def test_a_closed_port_fails_the_connection_check_with_guidance(
    page: Page, console: Console
) -> None:
    name = _unique("e2e-closed")
    sign_in(page, console, console.admin_email, return_to="/servers")
    dialog = _open_register(page)
    _fill(dialog, name, f"http://127.0.0.1:{free_port()}/mcp", environment="development")
    dialog.get_by_label("Discover capabilities after saving").uncheck()
    dialog.get_by_role("button", name="Register", exact=True).click()
    done = page.get_by_role("dialog", name="Server registered")
    done.get_by_role("button", name="Check connection").click()
    result = done.get_by_test_id("connection-check-result")
    expect(result).to_contain_text("Connection failed: The connection was refused")
    expect(result).to_contain_text("Nothing accepted the connection")
    expect(result).to_contain_text("connection_refused")


def test_the_list_pages_and_filters_hundreds_of_servers_in_the_api(
    page: Page, console: Console
) -> None:
    prefix = _unique("bulk")
    count = 300

    def register(i: int) -> None:
        body = {
            "name": f"{prefix}-{i:03d}",
            "url": f"https://mcp{i}.example.com/mcp",
            "environment": "development",
            "tags": ["bulk"],
            "auto_discover": False,
            "health": {"enabled": False},
        }
        with console.api() as api:
            response = api.post("/api/v1/servers", json=body)
        assert response.status_code == 201, response.text

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(register, range(count)))

    requests: list[str] = []
    page.on(
        "request",
        lambda r: requests.append(r.url) if "/api/v1/servers?" in r.url else None,
    )
    sign_in(page, console, console.admin_email, return_to="/servers")
    _search(page, prefix)
    rows = page.get_by_test_id("server-row")
    expect(rows).to_have_count(50)  # one page from the API, not the whole fleet
    expect(page.get_by_test_id("server-count")).to_contain_text("more match")
    page.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(100)
    _no_axe_violations(page)

    _search(page, f"{prefix}-00")
    expect(rows).to_have_count(10)
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "servers")

    _search(page, f"{prefix}-123")
    expect(rows).to_have_count(1)
    expect(_row(page, f"{prefix}-123")).to_be_visible()
    assert all("limit=50" in url for url in requests)
    # The search went to the API once typing paused, not once per key.
    searched = [url for url in requests if f"q={prefix}-12" in url]
    assert len(searched) <= 2, searched
    # Every filter is a query parameter the API applies.
    page.goto(f"{console.base}/servers?q={prefix}&health=unhealthy&status=active")
    expect(page.get_by_test_id("empty-state")).to_contain_text("No servers match these filters.")


def test_the_list_fits_a_phone(page: Page, console: Console) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, console, console.admin_email, return_to="/servers")
    expect(page.get_by_role("heading", name="Servers", level=1)).to_be_visible()
    expect(page.get_by_label("Search")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    screenshot(page, "servers-phone")


def test_the_list_and_form_read_in_the_dark_theme(
    page: Page, console: Console, mcp_open: McpFixture
) -> None:
    body = mcp_open.registration(tags=["dark"], description="Seen in the dark theme")
    with console.api() as api:
        assert api.post("/api/v1/servers", json=body).status_code == 201
    page.emulate_media(color_scheme="dark")
    sign_in(page, console, console.admin_email, return_to=f"/servers?q={body['name']}")
    expect(_row(page, body["name"])).to_be_visible()
    _no_axe_violations(page)
    dialog = _open_register(page)
    dialog.get_by_label("URL").fill("ftp://x")
    expect(dialog.get_by_text("The URL must start with https:// or http://.")).to_be_visible()
    _no_axe_violations(page)
    screenshot(page, "server-register-dark")
