"""The console under test: a real ``sprintconnect serve`` with its development identity provider,
and what a test does in the browser (sign in, take a screenshot, run axe)."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from sprintconnect.console.serving import static_dir

CHROMIUM = Path("/usr/bin/chromium")
# Chromium as root on a closed network: no sandbox, and none of the background connections
# that this machine refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
# Kept after `make test`, not committed (.gitignore): one PNG a screen.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "console-screenshots"
AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"


@dataclass
class Console:
    """A running server, its organization, and the admin's API key for set-up through the API."""

    base: str
    org_slug: str
    org_id: str
    admin_email: str
    admin_key: str
    data_dir: Path
    members: dict[str, str] = field(default_factory=dict)
    # Session cookies by email: a later test signs in by reusing one while it still works.
    sessions: dict[str, list[Any]] = field(default_factory=dict)

    def api(self, key: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.base,
            headers={"Authorization": f"Bearer {key or self.admin_key}"},
            timeout=30,
        )


def console_available() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not CHROMIUM.exists():
        return "Chromium is not installed (apt-get install chromium)"
    if static_dir() is None:
        return "the console is not built (make web)"
    return None


def sign_in(page: Page, console: Console, email: str, return_to: str = "/") -> None:
    """Be signed in as ``email`` on ``return_to``: with this person's session of an earlier test
    while the server still accepts it, otherwise through the development provider."""
    cookies = console.sessions.get(email)
    if cookies:
        page.context.add_cookies(cookies)
        if page.context.request.get(f"{console.base}/api/v1/me").ok:
            page.goto(f"{console.base}{return_to}")
            expect(page.get_by_test_id("user-menu")).to_be_visible()
            return
        page.context.clear_cookies()
    page.goto(f"{console.base}/auth/login?org={console.org_slug}&return_to={return_to}")
    page.locator('input[name="sub"]').fill(email)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(re.escape(console.base) + r"/"))
    expect(page.get_by_test_id("user-menu")).to_be_visible()
    console.sessions[email] = [
        c for c in page.context.cookies() if c["name"].endswith("sc_session")
    ]


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[Any]:
    """axe-core's violations of the given impacts on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    found = [v for v in result["violations"] if v.get("impact") in impacts]
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in found
    ]


def bootstrap_output(stdout: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(stdout)
    return document


def register_discovered(console: Console, url: str, prefix: str) -> dict[str, Any]:
    """The MCP server at ``url`` registered in the console's organization, discovered."""
    body = {
        "name": f"{prefix}-{uuid.uuid4().hex[:8]}",
        "url": url,
        "environment": "staging",
        "auto_discover": False,
    }
    with console.api() as api:
        made = api.post("/api/v1/servers", json=body)
        assert made.status_code == 201, made.text
        registered: dict[str, Any] = made.json()["server"]
        found = api.post(
            f"/api/v1/servers/{registered['id']}/discoveries",
            params={"wait": "true", "wait_timeout": 60},
        )
    assert found.status_code == 200, found.text
    assert found.json()["status"] == "succeeded", found.json()
    return registered
