"""Toolsets in the browser, against a real MCP server: create one from chosen tools (renamed,
classed, prefixed), see what its clients will see and the client configuration to copy; a name
two servers share is refused beside the prefix that would fix it; the screens read well in the
dark and on a phone."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.console import Console, axe_violations, register_discovered, screenshot, sign_in
from tests.gateway.upstream import Upstream, running


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    with running() as served:
        yield served


@pytest.fixture(scope="module")
def server(console: Console, upstream: Upstream) -> dict[str, Any]:
    return register_discovered(console, upstream.url, "tools")


def pick_server(page: Page, member: Locator, name: str) -> None:
    box = member.get_by_role("combobox", name="Server")
    box.click()
    box.fill(name)
    page.get_by_role("option", name=re.compile(re.escape(name))).click()


def settle(page: Page) -> None:
    """No notifications, no hover, at the top: a screenshot of the screen itself."""
    for close in page.get_by_role("button", name="Close notification").all():
        close.click()
    expect(page.get_by_role("button", name="Close notification")).to_have_count(0)
    page.mouse.move(0, 0)
    page.evaluate("window.scrollTo(0, 0)")


def exposed(page: Page, name: str) -> Locator:
    return page.locator(f'[data-testid="exposed-tool"][data-name="{name}"]')


def test_create_a_toolset_see_what_clients_see_and_copy_the_client_configuration(
    page: Page, console: Console, server: dict[str, Any]
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=console.base)
    name = f"support-{uuid.uuid4().hex[:6]}"
    sign_in(page, console, console.admin_email, return_to="/")
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Toolsets"
    ).click()
    expect(page.get_by_role("heading", level=1, name="Toolsets")).to_be_visible()
    page.get_by_role("link", name="New toolset").click()

    form = page.get_by_role("form", name="Create toolset")
    name_box = form.get_by_role("textbox", name="Name", exact=True)
    name_box.fill("Support")
    expect(form.get_by_text("Start with a lowercase letter or a digit.")).to_be_visible()
    name_box.fill(name)
    expect(form.get_by_text("Start with a lowercase letter or a digit.")).to_have_count(0)
    form.get_by_role("textbox", name="Description", exact=True).fill(
        "What the support agent may use"
    )
    form.get_by_role("button", name="Add a server").click()
    member = form.get_by_test_id("toolset-member")
    pick_server(page, member, server["name"])

    tools = member.get_by_role("table", name=f"Tools of {server['name']}")
    # What the server's annotations imply: add is read-only, echo is not.
    expect(tools.get_by_role("combobox", name="Class of add")).to_have_value("")
    expect(tools.get_by_role("combobox", name="Class of add")).to_contain_text("Default: read")
    expect(tools.get_by_role("combobox", name="Class of echo")).to_contain_text("Default: write")
    member.get_by_role("radio", name="Only the tools I choose").check()
    for tool in ("echo", "add", "account"):
        tools.get_by_role("checkbox", name=f"Use {tool}").check()
    tools.get_by_role("textbox", name="Name clients see for add").fill("sum")
    tools.get_by_role("combobox", name="Class of echo").select_option("expensive")
    member.get_by_role("textbox", name="Prefix", exact=True).fill("up_")
    form.get_by_role("button", name="Create toolset").click()

    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()
    page.wait_for_url(re.compile(r"/toolsets/[0-9a-f-]{36}$"))
    url = f"{console.base}/mcp/{console.org_slug}/{name}"
    expect(page.get_by_test_id("endpoint-url")).to_have_text(url)
    expect(page.get_by_test_id("exposed-tool")).to_have_count(3)
    expect(exposed(page, "up_echo")).to_contain_text("expensive")
    expect(exposed(page, "sum")).to_contain_text("add")
    expect(exposed(page, "sum")).to_contain_text("read")
    expect(exposed(page, "up_account")).to_contain_text(server["name"])
    expect(page.get_by_test_id("missing-tools")).to_have_count(0)

    config_text = page.get_by_test_id("client-config").inner_text()
    config = json.loads(config_text)
    assert config == {
        "mcpServers": {
            name: {
                "type": "http",
                "url": url,
                "headers": {"Authorization": "Bearer <your API key>"},
            }
        }
    }
    assert console.admin_key not in config_text
    page.get_by_role("button", name="Copy configuration").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert json.loads(page.evaluate("navigator.clipboard.readText()")) == config

    # The endpoint answers what the screen shows: the same names, through MCP.
    with console.api() as api:
        listed = api.post(
            f"/mcp/{console.org_slug}/{name}",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
            headers={"Accept": "application/json, text/event-stream"},
        )
    assert listed.status_code == 200, listed.text
    assert all(tool in listed.text for tool in ('"up_echo"', '"sum"', '"up_account"'))

    # Copied for a moment, then the button says what it does again.
    expect(page.get_by_role("button", name="Copy configuration")).to_be_visible()
    settle(page)
    screenshot(page, "toolset-detail")
    assert axe_violations(page) == []

    page.get_by_role("link", name="← All toolsets").click()
    row = page.locator(f'[data-testid="toolset-row"][data-name="{name}"]')
    expect(row.get_by_test_id("toolset-servers")).to_have_text("1 server")
    expect(row.get_by_test_id("toolset-endpoint")).to_have_text(f"/mcp/{console.org_slug}/{name}")
    row.get_by_role("button", name=f"Copy URL: {name}").click()
    assert page.evaluate("navigator.clipboard.readText()") == url
    expect(row.get_by_role("button", name=f"Copy URL: {name}")).to_be_visible()
    settle(page)
    screenshot(page, "toolsets")
    assert axe_violations(page) == []


def test_a_name_two_servers_expose_is_refused_beside_the_prefix_that_fixes_it(
    page: Page, console: Console, server: dict[str, Any], upstream: Upstream
) -> None:
    # The same MCP server registered a second time: every tool name is exposed twice.
    twin = register_discovered(console, upstream.url, "twin")
    name = f"both-{uuid.uuid4().hex[:6]}"
    sign_in(page, console, console.admin_email, return_to="/toolsets/new")
    form = page.get_by_role("form", name="Create toolset")
    form.get_by_role("textbox", name="Name", exact=True).fill(name)
    form.get_by_role("button", name="Add a server").click()
    pick_server(page, form.get_by_test_id("toolset-member").nth(0), server["name"])
    form.get_by_role("button", name="Add a server").click()
    second = form.get_by_test_id("toolset-member").nth(1)
    pick_server(page, second, twin["name"])
    expect(second.get_by_role("table", name=f"Tools of {twin['name']}")).to_be_visible()
    form.get_by_role("button", name="Create toolset").click()

    prefix = second.get_by_role("textbox", name="Prefix", exact=True)
    expect(prefix).to_have_attribute("aria-invalid", "true")
    expect(second).to_contain_text("is already exposed by another server of the toolset")
    expect(page.get_by_role("alert").filter(has_text="The toolset was not saved")).to_contain_text(
        "give one of them a `prefix` or a `rename`"
    )
    expect(
        form.get_by_test_id("toolset-member")
        .nth(0)
        .get_by_role("textbox", name="Prefix", exact=True)
    ).not_to_have_attribute("aria-invalid", "true")

    settle(page)
    screenshot(page, "toolset-form")
    assert axe_violations(page) == []

    prefix.fill("twin_")
    expect(prefix).not_to_have_attribute("aria-invalid", "true")
    form.get_by_role("button", name="Create toolset").click()
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()
    expect(exposed(page, "echo")).to_be_visible()
    expect(exposed(page, "twin_echo")).to_contain_text(twin["name"])


def test_the_detail_reads_in_the_dark_and_the_screens_fit_a_phone(
    page: Page, console: Console, server: dict[str, Any]
) -> None:
    name = f"dark-{uuid.uuid4().hex[:6]}"
    with console.api() as api:
        made = api.post(
            "/api/v1/toolsets",
            json={
                "name": name,
                "description": "Seen in the dark theme",
                "servers": [{"server_id": server["id"], "prefix": "d_"}],
            },
        )
    assert made.status_code == 201, made.text
    toolset_id = made.json()["id"]

    page.emulate_media(color_scheme="dark")
    sign_in(page, console, console.admin_email, return_to=f"/toolsets/{toolset_id}")
    expect(exposed(page, "d_echo")).to_be_visible()
    settle(page)
    screenshot(page, "toolset-detail-dark")
    assert axe_violations(page) == []

    # Without a mouse: the delete confirmation opens with Enter and closes with Escape.
    page.get_by_role("button", name="Delete").focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name=f"Delete {name}?")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(exposed(page, "d_echo")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(f"{console.base}/toolsets/{toolset_id}/edit")
    expect(page.get_by_role("table", name=f"Tools of {server['name']}")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(f"{console.base}/toolsets")
    expect(page.get_by_role("table", name="Toolsets")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
