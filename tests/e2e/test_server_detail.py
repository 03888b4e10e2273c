"""Stories 2.2 and 2.3 in the browser: a server's capabilities (discovery with its progress and
estimate, schemas as field tables), its snapshots and their diff, and its health (Check now,
check settings, history and the response-time chart), against a real MCP server whose tools
change between discoveries."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from mcp.server.mcpserver import MCPServer
from playwright.sync_api import Page, expect
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.discovery.servers import changing_server, streamable, weather_forecast
from tests.e2e.console import Console, axe_violations, screenshot, sign_in
from tests.fixtures.mcp_servers import ThreadedUvicorn
from tests.integration.processes import free_port

# Long enough to watch (and reload) a running discovery; it answers well within the limits.
SLOW_SECONDS = 1.5
DISCOVERY_TIMEOUT_MS = 45_000


class Slowed:
    """Holds every MCP request for ``delay`` seconds before passing it on (0: at once)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.delay = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and self.delay:
            await asyncio.sleep(self.delay)
        await self.app(scope, receive, send)


@dataclass
class Changing:
    """A running MCP server whose tools a test changes, and how slowly it answers."""

    server: MCPServer
    gate: Slowed
    url: str


@pytest.fixture
def changing() -> Iterator[Changing]:
    server = changing_server(f"detail-{uuid.uuid4().hex[:6]}")
    gate = Slowed(streamable(server))
    running = ThreadedUvicorn(gate)
    running.start()
    try:
        yield Changing(server, gate, f"http://127.0.0.1:{running.port}/mcp")
    finally:
        running.stop()


def register(console: Console, url: str) -> dict[str, Any]:
    body = {
        "name": f"detail-{uuid.uuid4().hex[:8]}",
        "url": url,
        "environment": "staging",
        "auto_discover": False,
    }
    with console.api() as api:
        response = api.post("/api/v1/servers", json=body)
    assert response.status_code == 201, response.text
    server: dict[str, Any] = response.json()["server"]
    return server


def discover_now(console: Console, server_id: str) -> dict[str, Any]:
    with console.api() as api:
        response = api.post(
            f"/api/v1/servers/{server_id}/discoveries", params={"wait": "true", "wait_timeout": 60}
        )
    assert response.status_code == 200, response.text
    finished: dict[str, Any] = response.json()
    assert finished["status"] == "succeeded", finished
    return finished


def get_current_weather(city: str, units: str = "metric") -> str:
    """Current weather for a city, in the units asked for."""
    return f"sunny in {city} ({units})"


def change_tools(server: MCPServer) -> None:
    """Add ``weather_forecast``, remove ``add``, and give ``get_current_weather`` a new
    description and an extra argument."""
    server.add_tool(weather_forecast)
    server.remove_tool("add")
    server.remove_tool("get_current_weather")
    server.add_tool(get_current_weather)


def settle(page: Page) -> None:
    """Close the notifications and scroll to the top, for a screenshot of the screen itself."""
    for close in page.get_by_role("button", name="Close notification").all():
        close.click()
    expect(page.get_by_role("button", name="Close notification")).to_have_count(0)
    page.evaluate("window.scrollTo(0, 0)")


def capability(page: Page, name: str) -> Any:
    return page.locator(f'[data-testid="capability"][data-name="{name}"]')


def test_discovery_shows_progress_and_then_the_capabilities_with_their_schemas(
    page: Page, console: Console, changing: Changing
) -> None:
    server = register(console, changing.url)
    sign_in(page, console, console.admin_email, return_to=f"/servers/{server['id']}")
    expect(page.get_by_role("heading", level=1, name=server["name"])).to_be_visible()
    expect(page.get_by_test_id("server-environment")).to_have_text("staging")
    expect(page.get_by_text("No capabilities yet")).to_be_visible()

    changing.gate.delay = SLOW_SECONDS
    page.get_by_role("button", name="Discover capabilities").click()
    progress = page.get_by_test_id("discovery-progress")
    expect(progress).to_be_visible()
    expect(progress).to_contain_text(re.compile("Queued|In progress"))
    expect(page.get_by_test_id("discovery-eta")).to_contain_text(
        re.compile("Estimated completion|longer than expected")
    )
    # A reload while it runs shows the same discovery, its status and its estimate.
    page.reload()
    expect(page.get_by_test_id("discovery-progress")).to_be_visible()
    expect(page.get_by_test_id("discovery-eta")).to_be_visible()

    expect(page.get_by_test_id("discovery-result")).to_contain_text(
        "First snapshot recorded (version 1)", timeout=DISCOVERY_TIMEOUT_MS
    )
    changing.gate.delay = 0
    add = capability(page, "add")
    expect(add).to_contain_text("Add two numbers.")
    field = add.locator('tr[data-field="a"]')
    expect(field).to_contain_text("integer")
    expect(field).to_contain_text("required")
    weather = capability(page, "get_current_weather")
    expect(weather.locator('tr[data-field="city"]')).to_contain_text("string")
    expect(capability(page, "config://app")).to_be_visible()
    expect(capability(page, "summarize")).to_contain_text("text")
    expect(page.get_by_test_id("snapshot-summary")).to_contain_text("2 tools")

    add.get_by_role("button", name="Show raw JSON of add").click()
    expect(add.locator("pre")).to_contain_text('"inputSchema"')
    settle(page)
    screenshot(page, "server-capabilities")
    violations = axe_violations(page)
    assert violations == [], violations


def test_force_refresh_records_a_version_and_snapshots_show_the_diff(
    page: Page, console: Console, changing: Changing
) -> None:
    server = register(console, changing.url)
    discover_now(console, server["id"])
    change_tools(changing.server)

    sign_in(page, console, console.admin_email, return_to=f"/servers/{server['id']}")
    expect(capability(page, "add")).to_be_visible()
    page.get_by_role("button", name="Force refresh").click()
    expect(page.get_by_test_id("discovery-result")).to_contain_text(
        "version 2 recorded", timeout=DISCOVERY_TIMEOUT_MS
    )
    expect(capability(page, "weather_forecast")).to_be_visible()
    expect(capability(page, "add")).to_have_count(0)

    page.get_by_role("tab", name="Snapshots").click()
    expect(page).to_have_url(re.compile(rf"/servers/{server['id']}/snapshots$"))
    expect(page.locator('tr[data-version="2"]')).to_contain_text("1 added, 1 removed, 1 modified")
    expect(page.locator('tr[data-version="1"]')).to_contain_text("First snapshot")
    expect(page.get_by_label("From", exact=True)).to_have_value("1")
    expect(page.get_by_label("To", exact=True)).to_have_value("2")
    expect(page.get_by_test_id("diff-added")).to_contain_text("weather_forecast")
    expect(page.get_by_test_id("diff-removed")).to_contain_text("add")
    modified = page.get_by_test_id("diff-modified")
    expect(modified).to_contain_text("get_current_weather")
    expect(modified).to_contain_text("description")
    expect(modified).to_contain_text("inputSchema.properties.units")
    expect(modified).to_contain_text("in the units asked for")
    settle(page)
    screenshot(page, "server-snapshots-diff")
    violations = axe_violations(page)
    assert violations == [], violations

    # The same comparison the other way round: what was added is now removed.
    page.get_by_label("From", exact=True).select_option("2")
    page.get_by_label("To", exact=True).select_option("1")
    expect(page.get_by_test_id("diff-removed")).to_contain_text("weather_forecast")


def test_a_failed_discovery_says_why_and_what_to_do(page: Page, console: Console) -> None:
    server = register(console, f"http://127.0.0.1:{free_port()}/mcp")
    sign_in(page, console, console.admin_email, return_to=f"/servers/{server['id']}")
    page.get_by_role("button", name="Discover capabilities").click()
    result = page.get_by_test_id("discovery-result")
    expect(result).to_contain_text("the connection was refused", timeout=DISCOVERY_TIMEOUT_MS)
    expect(result).to_contain_text("What to do")
    expect(page.get_by_test_id("server-facts")).to_contain_text("Discovery failed")


def test_check_now_updates_health_and_the_history_and_chart_show(
    page: Page, console: Console, changing: Changing
) -> None:
    server = register(console, changing.url)
    sign_in(page, console, console.admin_email, return_to=f"/servers/{server['id']}/health")
    expect(page.get_by_role("tab", name="Health")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_test_id("health-last-check")).to_have_text("Not checked yet")

    page.get_by_role("button", name="Check now").click()
    expect(page.get_by_test_id("health-status")).to_contain_text("Healthy")
    expect(page.get_by_test_id("health-last-check")).not_to_have_text("Not checked yet")
    expect(page.get_by_test_id("health-response")).to_contain_text("ms")
    expect(page.get_by_test_id("health-uptime")).to_have_text("100.00 %")
    expect(page.get_by_test_id("health-percentiles")).to_contain_text("ms")
    expect(page.get_by_test_id("health-timeline")).to_contain_text("Healthy")
    expect(page.get_by_test_id("status-strip")).to_be_visible()
    expect(page.locator(".recharts-surface").first).to_be_visible()
    settle(page)
    screenshot(page, "server-health")
    violations = axe_violations(page)
    assert violations == [], violations

    # Another range reads the same check from the daily view.
    page.get_by_text("30 days", exact=True).click()
    expect(page.get_by_role("heading", name="Uptime by day")).to_be_visible()
    expect(page.get_by_test_id("health-uptime")).to_have_text("100.00 %")

    # Checks every 5 minutes, then every 10; below the organization's minimum is refused.
    interval = page.get_by_label("Check interval (seconds)")
    interval.fill("10")
    page.get_by_role("button", name="Save check settings").click()
    expect(page.get_by_text("at least", exact=False).first).to_be_visible()
    interval.fill("600")
    page.get_by_role("button", name="Save check settings").click()
    expect(page.get_by_text("is checked every 10 minutes")).to_be_visible()
    with console.api() as api:
        saved = api.get(f"/api/v1/servers/{server['id']}").json()
    assert saved["health"]["interval_seconds"] == 600


def test_the_detail_fits_a_phone(page: Page, console: Console, changing: Changing) -> None:
    server = register(console, changing.url)
    discover_now(console, server["id"])
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, console, console.admin_email, return_to=f"/servers/{server['id']}")
    expect(capability(page, "add")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("tab", name="Health").click()
    expect(page.get_by_test_id("health-last-check")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_detail_reads_in_the_dark_theme(
    page: Page, console: Console, changing: Changing
) -> None:
    server = register(console, changing.url)
    discover_now(console, server["id"])
    with console.api() as api:
        assert api.post(f"/api/v1/servers/{server['id']}/health/checks").status_code == 200
    sign_in(page, console, console.admin_email, return_to=f"/servers/{server['id']}")
    page.get_by_role("button", name="Switch to the dark theme").click()
    expect(capability(page, "add")).to_be_visible()
    violations = axe_violations(page)
    assert violations == [], violations
    page.get_by_role("tab", name="Health").click()
    expect(page.get_by_test_id("health-uptime")).to_have_text("100.00 %")
    expect(page.locator(".recharts-surface").first).to_be_visible()
    settle(page)
    screenshot(page, "server-health-dark")
    violations = axe_violations(page)
    assert violations == [], violations
