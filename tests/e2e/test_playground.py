"""Issue 16 in the browser: the tool playground against a real MCP server. Pick the server and
a tool, fill the form drawn from its input schema, run it, see the result and the call in the
history; a missing argument shows beside its field; progress streams in; Cancel stops the call
on the MCP server."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.console import Console, axe_violations, register_discovered, screenshot, sign_in
from tests.gateway.upstream import Upstream, running

RESULT_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    with running() as served:
        yield served


@pytest.fixture(scope="module")
def server(console: Console, upstream: Upstream) -> dict[str, Any]:
    """The upstream registered in the console's organization, its capabilities discovered."""
    return register_discovered(console, upstream.url, "playground")


def pick(
    page: Page, label: str, option: str | re.Pattern[str], *, search: str | None = None
) -> None:
    """Choose ``option`` in the searchable select labelled ``label``."""
    box = page.get_by_role("combobox", name=label)
    box.click()
    if search is not None:
        box.fill(search)
    page.get_by_role("option", name=option).click()


def open_playground(page: Page, console: Console, query: str) -> None:
    """Signed in, at ``/playground?<query>`` (sign_in's return_to takes no query of its own)."""
    sign_in(page, console, console.admin_email, return_to="/")
    page.goto(f"{console.base}/playground?{query}")
    expect(page.get_by_role("heading", level=1, name="Playground")).to_be_visible()


def settle(page: Page) -> None:
    for close in page.get_by_role("button", name="Close notification").all():
        close.click()
    page.mouse.move(0, 0)
    page.evaluate("window.scrollTo(0, 0)")


def test_pick_a_server_and_a_tool_fill_the_form_run_it_and_see_the_result(
    page: Page, console: Console, server: dict[str, Any], upstream: Upstream
) -> None:
    sign_in(page, console, console.admin_email, return_to="/")
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Playground"
    ).click()
    expect(page.get_by_role("heading", level=1, name="Playground")).to_be_visible()

    pick(page, "Server", re.compile(re.escape(server["name"])), search=server["name"])
    pick(page, "Tool", "echo")
    expect(page.get_by_test_id("capability-description")).to_contain_text(
        "Answer with the text it was given"
    )
    text = page.get_by_role("textbox", name=re.compile("^text"))
    expect(text).to_have_attribute("aria-required", "true")
    assert f"server={server['id']}" in page.url
    assert "tool=echo" in page.url

    # Nothing typed: the API refuses before calling the server, and says so beside the field.
    calls_before = list(upstream.observed.calls)
    page.get_by_role("button", name="Run").click()
    expect(text).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("Required", exact=True)).to_be_visible()
    expect(page.get_by_test_id("call-problem")).to_contain_text(
        "The arguments do not match the tool's input schema"
    )
    assert upstream.observed.calls == calls_before
    screenshot(page, "playground-invalid")

    text.fill("hello from the browser")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_test_id("result-text")).to_have_text(
        "hello from the browser", timeout=RESULT_TIMEOUT_MS
    )
    expect(page.get_by_test_id("result-status")).to_have_text("ok")
    expect(page.get_by_test_id("fact-estimated-tokens")).to_contain_text("≈")
    assert upstream.observed.calls[-1] == "echo"

    # Both calls are in the history (measured in batches: it refreshes by itself).
    history = page.get_by_role("list", name="Your recent calls")
    expect(history.get_by_test_id("history-row")).to_have_count(2, timeout=RESULT_TIMEOUT_MS)
    expect(history.get_by_test_id("history-row").first).to_contain_text("ok")
    expect(history.get_by_test_id("history-row").nth(1)).to_contain_text("invalid arguments")

    settle(page)
    screenshot(page, "playground")
    violations = axe_violations(page)
    assert violations == [], violations

    # Picking the call in the history selects it again, with the arguments this tab kept.
    page.reload()
    history.get_by_role("button", name="Select tool echo again").first.click()
    expect(page.get_by_role("textbox", name=re.compile("^text"))).to_have_value(
        "hello from the browser"
    )


def test_try_it_from_the_capabilities_streams_progress_and_reads_in_the_dark(
    page: Page, console: Console, server: dict[str, Any]
) -> None:
    sign_in(page, console, console.admin_email, return_to=f"/servers/{server['id']}")
    page.get_by_role("link", name="Try it: count in the playground").click()
    expect(page.get_by_role("heading", level=1, name="Playground")).to_be_visible()
    expect(page.get_by_role("combobox", name="Tool")).to_have_value("count")
    page.emulate_media(color_scheme="dark")
    page.get_by_role("textbox", name=re.compile("^steps")).fill("40")
    page.get_by_role("button", name="Run").click()
    # The upstream reports each step; the last one may come and go quickly.
    expect(page.get_by_test_id("call-progress")).to_contain_text(
        re.compile(r"step \d+ · \d+ of 40"), timeout=RESULT_TIMEOUT_MS
    )
    expect(page.get_by_test_id("result-text")).to_have_text("counted 40", timeout=RESULT_TIMEOUT_MS)
    latest = page.get_by_role("list", name="Your recent calls").get_by_test_id("history-row").first
    expect(latest).to_contain_text("count", timeout=RESULT_TIMEOUT_MS)
    settle(page)
    screenshot(page, "playground-dark")
    violations = axe_violations(page)
    assert violations == [], violations

    # A phone's width: everything stacks, nothing runs off the side.
    page.set_viewport_size({"width": 390, "height": 844})
    page.emulate_media(color_scheme="light")
    expect(page.get_by_test_id("result-text")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "playground-narrow")


def start_hang(page: Page, console: Console, server: dict[str, Any], upstream: Upstream) -> str:
    """Run the upstream's ``hang`` tool from the playground, until the server has it."""
    label = f"cancel-{uuid.uuid4().hex[:6]}"
    open_playground(page, console, f"server={server['id']}&tool=hang")
    page.get_by_role("textbox", name=re.compile("^label")).fill(label)
    started = upstream.observed.calls.count("hang")
    page.get_by_role("button", name="Run").click()
    expect(page.get_by_test_id("call-progress")).to_be_visible()
    deadline = time.monotonic() + 20
    while upstream.observed.calls.count("hang") == started and time.monotonic() < deadline:
        time.sleep(0.1)
    assert upstream.observed.calls.count("hang") > started
    return label


def test_cancel_closes_the_stream_and_the_call_is_measured_cancelled(
    page: Page, console: Console, server: dict[str, Any], upstream: Upstream
) -> None:
    start_hang(page, console, server, upstream)
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_test_id("call-cancelled")).to_be_visible()
    expect(page.get_by_role("button", name="Run")).to_be_enabled()
    history = page.get_by_role("list", name="Your recent calls")
    latest = history.get_by_test_id("history-row").first
    expect(latest).to_contain_text("hang", timeout=RESULT_TIMEOUT_MS)
    expect(latest).to_contain_text("cancelled")


def test_cancel_stops_the_call_on_the_mcp_server(
    page: Page, console: Console, server: dict[str, Any], upstream: Upstream
) -> None:
    label = start_hang(page, console, server, upstream)
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_test_id("call-cancelled")).to_be_visible()
    deadline = time.monotonic() + 10
    while label not in upstream.observed.cancelled and time.monotonic() < deadline:
        time.sleep(0.1)
    assert label in upstream.observed.cancelled


def test_a_prompt_and_a_resource(page: Page, console: Console, server: dict[str, Any]) -> None:
    open_playground(page, console, f"server={server['id']}&prompt=greeting")
    expect(page.get_by_role("radio", name="Prompt")).to_be_checked()
    page.get_by_role("textbox", name=re.compile("^name")).fill("Ada")
    page.get_by_role("button", name="Get prompt").click()
    expect(page.get_by_test_id("result-text")).to_contain_text(
        "Hello, Ada!", timeout=RESULT_TIMEOUT_MS
    )

    # The segmented control's radios are drawn by their labels.
    page.locator("label", has_text=re.compile("^Resource$")).click()
    pick(page, "Resource", "docs://readme")
    expect(page.get_by_role("textbox", name="URI")).to_have_value("docs://readme")
    page.get_by_role("button", name="Read resource").click()
    resource = page.get_by_test_id("result-resource")
    expect(resource).to_contain_text("docs://readme", timeout=RESULT_TIMEOUT_MS)
    expect(resource).to_contain_text("# Readme")
    assert "resource=docs" in page.url
