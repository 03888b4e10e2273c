"""Story 6.2 in the browser: create a webhook to a local receiver, see its secret once, test it,
see a real delivery and the statistics."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.console import Console, axe_violations, screenshot, sign_in

ANSWER = b"received by the e2e receiver"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A webhook receiver on a loopback port: answers 200 and records every request."""

    server: ThreadingHTTPServer
    requests: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def wait_for(self, event_type: str, seconds: float = 60) -> Received:
        """The first request carrying ``event_type``, once it has come."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for request in list(self.requests):
                if f'"type":"{event_type}"'.encode() in request.body:
                    return request
            time.sleep(0.2)
        raise AssertionError(f"no {event_type} request in {seconds} s: {self.requests}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    requests: list[Received] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            requests.append(Received(self.path, headers, body))
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(ANSWER)))
            self.end_headers()
            self.wfile.write(ANSWER)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Receiver(server, requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def cleanup(console: Console) -> Iterator[None]:
    """Delete the webhooks a test made, so later events in the shared organization do not
    go to a receiver that has stopped."""
    with console.api() as client:
        before = {h["id"] for h in client.get("/api/v1/webhooks?limit=100").json()["items"]}
    yield
    with console.api() as client:
        for hook in client.get("/api/v1/webhooks?limit=100").json()["items"]:
            if hook["id"] not in before:
                client.delete(f"/api/v1/webhooks/{hook['id']}")


def signed_by(secret: str, request: Received) -> bool:
    """The Standard Webhooks check, written out: HMAC-SHA256 of ``id.timestamp.body``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = b".".join(
        [
            request.headers["webhook-id"].encode(),
            request.headers["webhook-timestamp"].encode(),
            request.body,
        ]
    )
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [s.split(",", 1)[1] for s in request.headers["webhook-signature"].split()]
    return any(hmac.compare_digest(expected, s) for s in offered)


@pytest.mark.usefixtures("cleanup")
def test_create_test_and_watch_a_webhook(page: Page, console: Console, receiver: Receiver) -> None:
    name = f"e2e receiver {uuid.uuid4().hex[:8]}"
    sign_in(page, console, console.admin_email, return_to="/webhooks")
    expect(page.get_by_role("heading", name="Webhooks", level=1)).to_be_visible()

    # Create: the URL, a description, the API key events; the secret is shown once.
    page.get_by_role("button", name="Add webhook").click()
    dialog = page.get_by_role("dialog", name="Add webhook")
    dialog.get_by_role("button", name="Create webhook").click()
    expect(dialog.get_by_text("Choose at least one event.")).to_be_visible()
    dialog.get_by_role("textbox", name="URL").fill(receiver.url)
    dialog.get_by_label("Description").fill(name)
    dialog.get_by_role("checkbox", name="All API key events (api_key.*)").check()
    dialog.get_by_role("button", name="Create webhook").click()
    secret_box = dialog.get_by_test_id("secret-value")
    expect(secret_box).to_contain_text("whsec_")
    secret = secret_box.inner_text().strip()
    dialog.get_by_role("link", name="Open webhook").click()
    expect(page).to_have_url(re.compile(r"/webhooks/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    expect(page.get_by_test_id("secret-value")).to_have_count(0)

    # Test: the receiver's answer in the page, and a signed request at the receiver.
    page.get_by_role("button", name="Test webhook").click()
    result = page.get_by_test_id("test-result")
    expect(result.get_by_test_id("test-status")).to_have_text("200")
    expect(result.get_by_test_id("test-body")).to_have_text(ANSWER.decode())
    tested = receiver.wait_for("webhook.test")
    assert tested.path == "/hook"
    assert signed_by(secret, tested)

    # A real event: a key made through the API is delivered, listed and counted.
    with console.api() as client:
        made = client.post(
            "/api/v1/api-keys",
            json={"name": f"hooked {name}", "scopes": ["servers:read"], "expires_in_days": 1},
        )
        assert made.status_code == 201, made.text
    delivered = receiver.wait_for("api_key.created")
    assert signed_by(secret, delivered)
    page.reload()
    row = page.get_by_test_id("delivery-row").filter(has_text="api_key.created").first
    expect(row).to_be_visible()
    expect(row.get_by_test_id("delivery-status")).to_have_text("delivered")
    expect(row).to_contain_text("200")
    expect(page.get_by_test_id("success-24h")).to_have_text("100%")
    expect(page.get_by_test_id("latency-p50")).to_have_text(re.compile(r"\d+ (ms|s)"))

    row.get_by_role("button", name=re.compile("^Open delivery")).click()
    details = page.get_by_test_id("delivery-details")
    expect(details.get_by_test_id("delivery-payload")).to_contain_text(made.json()["api_key"]["id"])
    expect(details.get_by_test_id("attempt")).to_contain_text(ANSWER.decode())
    page.get_by_role("button", name="Close the delivery").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "webhook-detail")
    assert axe_violations(page) == []

    # The list: this webhook, its events and its last delivery.
    page.get_by_role("link", name="← All webhooks").click()
    listed = page.get_by_test_id("webhook-row").filter(has_text=receiver.url)
    expect(listed).to_contain_text("api_key.*")
    expect(listed.get_by_test_id("last-delivery-status")).to_have_text("200")
    screenshot(page, "webhooks")
    assert axe_violations(page) == []


@pytest.mark.usefixtures("cleanup")
def test_rotate_redeliver_and_delete(page: Page, console: Console, receiver: Receiver) -> None:
    with console.api() as client:
        made = client.post(
            "/api/v1/webhooks",
            json={
                "url": receiver.url,
                "description": f"rotate {uuid.uuid4().hex[:8]}",
                "event_types": ["api_key.created"],
            },
        )
        assert made.status_code == 201, made.text
        hook = made.json()
        key = client.post(
            "/api/v1/api-keys",
            json={"name": "to redeliver", "scopes": ["servers:read"], "expires_in_days": 1},
        )
        assert key.status_code == 201, key.text
    receiver.wait_for("api_key.created")
    sign_in(page, console, console.admin_email, return_to=f"/webhooks/{hook['id']}")

    # Edit: a new description and one more event type, saved at once.
    renamed = f"renamed {uuid.uuid4().hex[:8]}"
    settings = page.get_by_role("form", name="Save changes")
    settings.get_by_label("Description").fill(renamed)
    settings.get_by_role("checkbox", name="api_key.revoked").check()
    settings.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", name=renamed, level=1)).to_be_visible()
    with console.api() as client:
        saved = client.get(f"/api/v1/webhooks/{hook['id']}").json()
    assert saved["description"] == renamed
    assert sorted(saved["event_types"]) == ["api_key.created", "api_key.revoked"]
    hook["description"] = renamed

    # Rotate: a new secret, shown once, and the next request carries its signature.
    page.get_by_role("button", name="Rotate secret").click()
    dialog = page.get_by_role("dialog", name="Rotate the signing secret")
    dialog.get_by_role("button", name="Rotate secret").click()
    new_secret = dialog.get_by_test_id("secret-value").inner_text().strip()
    assert new_secret.startswith("whsec_")
    assert new_secret != hook["secret"]
    dialog.get_by_role("button", name="Done").click()

    # Redeliver the delivered event: it goes again, signed with both secrets.
    before = len(receiver.requests)
    row = page.get_by_test_id("delivery-row").first
    expect(row.get_by_test_id("delivery-status")).to_have_text("delivered")
    row.get_by_role("button", name=re.compile("^Open delivery")).click()
    page.get_by_role("button", name="Redeliver").click()
    expect(page.get_by_text("The delivery is queued to be sent again.")).to_be_visible()
    deadline = time.monotonic() + 60
    while len(receiver.requests) == before and time.monotonic() < deadline:
        time.sleep(0.2)
    again = receiver.requests[-1]
    assert signed_by(new_secret, again)
    assert signed_by(hook["secret"], again)
    page.get_by_role("button", name="Close the delivery").click()

    # Delete, after confirming.
    page.get_by_role("button", name="Delete", exact=True).click()
    page.get_by_role("button", name="Delete webhook").click()
    expect(page).to_have_url(re.compile(r"/webhooks$"))
    expect(page.get_by_test_id("webhook-row").filter(has_text=hook["description"])).to_have_count(0)


@pytest.mark.usefixtures("cleanup")
def test_the_webhook_screens_fit_a_phone(page: Page, console: Console) -> None:
    with console.api() as client:
        made = client.post(
            "/api/v1/webhooks",
            json={"url": "https://hooks.example.com/phone", "event_types": ["server.*"]},
        )
        assert made.status_code == 201, made.text
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, console, console.admin_email, return_to="/webhooks")
    expect(page.get_by_test_id("webhook-row").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(f"{console.base}/webhooks/{made.json()['id']}")
    expect(page.get_by_role("heading", name="Deliveries")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.usefixtures("cleanup")
def test_the_webhook_screens_read_well_in_the_dark_theme(page: Page, console: Console) -> None:
    with console.api() as client:
        made = client.post(
            "/api/v1/webhooks",
            json={"url": "https://hooks.example.com/dark", "event_types": ["*"]},
        )
        assert made.status_code == 201, made.text
    page.emulate_media(color_scheme="dark")
    sign_in(page, console, console.admin_email, return_to="/webhooks")
    expect(page.get_by_test_id("webhook-row").first).to_be_visible()
    assert axe_violations(page) == []
    page.goto(f"{console.base}/webhooks/{made.json()['id']}")
    expect(page.get_by_test_id("webhook-stats")).to_be_visible()
    screenshot(page, "webhook-detail-dark")
    assert axe_violations(page) == []
