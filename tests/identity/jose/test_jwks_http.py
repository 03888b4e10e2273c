"""JWKS served by a real HTTP server on loopback, fetched through the egress guard."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sprintconnect.egress import EgressPolicy
from sprintconnect.identity.jose import (
    Expectations,
    JwksCache,
    TokenRejected,
    fetch_json,
    verify_jwt,
)
from tests.fixtures.offline import refuse_off_machine
from tests.identity.jose import support as s

ACCESS = Expectations(
    issuer=s.ISSUER, audiences=frozenset({s.AUDIENCE}), token_types=frozenset({"at+jwt"})
)
LOOPBACK = EgressPolicy(allow_loopback=True)


class JwksServer:
    """A JWKS endpoint with switchable answers; counts the requests it served."""

    def __init__(self) -> None:
        self.body: bytes = b'{"keys": []}'
        self.status = 200
        self.requests = 0
        self.redirect_to: str | None = None
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                if outer.redirect_to is not None and self.path == "/moved":
                    self.send_response(302)
                    self.send_header("Location", outer.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/.well-known/jwks.json"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def serve(self, document: Any) -> None:
        self.body = json.dumps(document).encode()
        self.status = 200

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[JwksServer]:
    refuse_off_machine(monkeypatch)
    srv = JwksServer()
    yield srv
    srv.close()


async def test_verify_with_keys_fetched_over_http_and_rotation(server: JwksServer) -> None:
    first, second = s.ec("k1"), s.rsa("k2")
    server.serve(s.jwks_document(first))
    cache = JwksCache(lambda: fetch_json(server.url, LOOPBACK), ttl_seconds=600)
    assert await verify_jwt(s.sign(first, s.claims()), cache, ACCESS, now=s.NOW)
    assert server.requests == 1
    server.serve(s.jwks_document(first, second))
    token = s.sign(second, s.claims(), alg="PS256")
    assert (await verify_jwt(token, cache, ACCESS, now=s.NOW))["sub"] == "user-1"
    assert server.requests == 2  # the unknown kid caused exactly one refetch
    with pytest.raises(TokenRejected) as info:
        await verify_jwt(s.sign(s.ec("k3"), s.claims()), cache, ACCESS, now=s.NOW)
    assert info.value.reason == "unknown_kid"
    assert server.requests == 2  # rate-limited: no refetch within the interval
    await cache.aclose()


async def test_loopback_refused_without_the_operator_setting(server: JwksServer) -> None:
    server.serve(s.jwks_document(s.ec("k1")))
    with pytest.raises(TokenRejected) as info:
        await fetch_json(server.url, EgressPolicy())
    assert info.value.reason == "keys_unavailable"
    assert server.requests == 0  # refused before any connection


async def test_redirect_to_a_denied_address_is_refused(server: JwksServer) -> None:
    server.redirect_to = "http://169.254.169.254/latest/meta-data/"
    with pytest.raises(TokenRejected) as info:
        await fetch_json(f"http://127.0.0.1:{server.port}/moved", LOOPBACK)
    assert info.value.reason == "keys_unavailable"
    assert server.requests == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, b'{"keys": []}'),
        (404, b"not found"),
        (200, b"<html>login</html>"),
        (200, b'["not", "an", "object"]'),
        (200, b'{"keys": [], "keys": []}'),
        (200, b'{"keys": [' + b'{"kty": "EC"},' * 30_000 + b"{}]}"),
    ],
)
async def test_bad_answers_are_keys_unavailable(
    server: JwksServer, status: int, body: bytes
) -> None:
    server.status, server.body = status, body
    with pytest.raises(TokenRejected) as info:
        await fetch_json(server.url, LOOPBACK)
    assert info.value.reason == "keys_unavailable"


async def test_unreachable_endpoint_is_keys_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_off_machine(monkeypatch)
    with socket.socket() as probe:  # a loopback port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TokenRejected) as info:
        await fetch_json(f"http://127.0.0.1:{port}/jwks", LOOPBACK, timeout=2)
    assert info.value.reason == "keys_unavailable"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://10.0.0.1/jwks",
        "http://[::1]:6379/",
        "gopher://127.0.0.1/",
        # A host name IDNA refuses (found by schemathesis as a provider's issuer): a clear
        # refusal, not an unexpected error.
        "https://\u00c8L\u00a1\u00cc\\{N\u0099\u00d2/.well-known/openid-configuration",
    ],
)
async def test_denied_urls_never_connect(url: str, server: JwksServer) -> None:
    with pytest.raises(TokenRejected):
        await fetch_json(url, LOOPBACK)
    assert server.requests == 0


async def test_background_refresh_over_http(server: JwksServer) -> None:
    old, new = s.ec("old"), s.ec("new")
    server.serve(s.jwks_document(old))
    now = [0.0]
    cache = JwksCache(
        lambda: fetch_json(server.url, LOOPBACK), ttl_seconds=100, clock=lambda: now[0]
    )
    assert await cache.key_for("old", "ES256")
    server.serve(s.jwks_document(new))
    now[0] = 60  # past half the TTL: served from the old set, refreshed behind
    assert await cache.key_for("old", "ES256")
    for _ in range(200):
        if cache.fetches == 2 and cache._background is not None and cache._background.done():
            break
        await asyncio.sleep(0.01)
    assert server.requests == 2
    assert await cache.key_for("new", "ES256")
    assert await cache.key_for("old", "ES256") is None
    await cache.aclose()
