"""Connection checks against real MCP servers that check the credentials SprintConnect sends.

These use the loopback app (the operator allowed loopback) and the fixture servers on
127.0.0.1; every socket goes through the wire's loopback-only backends.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import MemberFactory, Tenant, assert_problem
from tests.fixtures.mcp_servers import McpFixture, MtlsMaterial
from tests.mcp_server.conftest import Wire
from tests.mcp_server.support import SERVERS, assert_absent, check, secret_path

FIXTURES = ["mcp_open", "mcp_bearer", "mcp_header", "mcp_oauth", "mcp_mtls", "mcp_sse"]


async def _register(client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any]) -> str:
    response = await client.post(SERVERS, json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    server_id: str = response.json()["server"]["id"]
    return server_id


async def _patch_auth(
    client: httpx.AsyncClient, tenant: Tenant, server_id: str, auth: dict[str, Any]
) -> None:
    response = await client.patch(
        f"{SERVERS}/{server_id}", json={"auth": auth}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text


def _secret_values(fixture: McpFixture) -> list[str]:
    keys = ("token", "value", "client_secret", "client_key_pem")
    return [fixture.auth[k] for k in keys if k in fixture.auth]


@pytest.mark.parametrize("which", FIXTURES)
async def test_check_succeeds_with_the_right_credentials(
    lclient: httpx.AsyncClient,
    tenant: Tenant,
    wire: Wire,
    request: pytest.FixtureRequest,
    which: str,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    fixture: McpFixture = request.getfixturevalue(which)
    accepted, rejected = fixture.gate.accepted, fixture.gate.rejected
    server_id = await _register(lclient, tenant, fixture.registration())
    result = await check(lclient, tenant, server_id)
    assert result == {
        "ok": True,
        "latency_ms": result["latency_ms"],
        "protocol_version": result["protocol_version"],
        "server_name": fixture.name,
        "server_version": "1.2.3",
        "error": None,
        "reason": None,
    }
    assert result["protocol_version"]
    assert result["latency_ms"] >= 0
    # The server's gate let SprintConnect's requests in and turned none away.
    assert fixture.gate.accepted > accepted
    assert fixture.gate.rejected == rejected
    # Every socket went to the fixture server, through the guard.
    assert wire.attempts
    assert set(wire.attempts) == {("127.0.0.1", fixture.port)}
    captured = capsys.readouterr()
    assert_absent(_secret_values(fixture), caplog.text, captured.out, captured.err, str(result))


@pytest.mark.parametrize(
    ("which", "wrong"),
    [
        ("mcp_bearer", {"type": "bearer", "token": "not-the-token"}),
        ("mcp_header", {"type": "header", "header_name": "X-Api-Key", "value": "nope"}),
        ("mcp_header", {"type": "header", "header_name": "X-Other-Key", "value": "x"}),
        ("mcp_bearer", {"type": "none"}),
    ],
)
async def test_wrong_credentials_are_reported_as_auth_rejected(
    lclient: httpx.AsyncClient,
    tenant: Tenant,
    request: pytest.FixtureRequest,
    which: str,
    wrong: dict[str, Any],
) -> None:
    fixture: McpFixture = request.getfixturevalue(which)
    server_id = await _register(lclient, tenant, fixture.registration())
    assert (await check(lclient, tenant, server_id))["ok"] is True
    await _patch_auth(lclient, tenant, server_id, wrong)
    rejected = fixture.gate.rejected
    result = await check(lclient, tenant, server_id)
    assert result["ok"] is False
    assert result["reason"] == "auth_rejected"
    assert "PATCH /api/v1/servers/" in result["error"]
    assert fixture.gate.rejected > rejected
    # Putting the right credentials back makes it work again.
    await _patch_auth(lclient, tenant, server_id, fixture.auth)
    assert (await check(lclient, tenant, server_id))["ok"] is True


async def test_oauth2_token_is_fetched_once_and_reused(
    lclient: httpx.AsyncClient, tenant: Tenant, mcp_oauth: McpFixture
) -> None:
    gate = mcp_oauth.gate
    server_id = await _register(lclient, tenant, mcp_oauth.registration())
    before = gate.token_requests
    assert (await check(lclient, tenant, server_id))["ok"] is True
    assert gate.token_requests == before + 1
    form = gate.token_forms[-1]
    assert form["grant_type"] == "client_credentials"
    assert form["scope"] == "mcp:read mcp:call"
    assert form["audience"] == "fixture-oauth"
    assert "client_secret" not in form  # sent with HTTP Basic, not in the body
    # The second check reuses the cached token: no new request to /token.
    assert (await check(lclient, tenant, server_id))["ok"] is True
    assert gate.token_requests == before + 1


async def test_oauth2_refused_token_is_dropped_and_fetched_again(
    lclient: httpx.AsyncClient, tenant: Tenant, mcp_oauth: McpFixture
) -> None:
    gate = mcp_oauth.gate
    server_id = await _register(lclient, tenant, mcp_oauth.registration())
    assert (await check(lclient, tenant, server_id))["ok"] is True
    gate.revoke_tokens()  # the server no longer accepts the cached token
    before = gate.token_requests
    refused = await check(lclient, tenant, server_id)
    assert (refused["ok"], refused["reason"]) == (False, "auth_rejected")
    assert gate.token_requests == before  # the cached token was tried, and refused
    assert (await check(lclient, tenant, server_id))["ok"] is True
    assert gate.token_requests == before + 1


async def test_oauth2_wrong_client_secret_is_auth_rejected(
    lclient: httpx.AsyncClient, tenant: Tenant, mcp_oauth: McpFixture
) -> None:
    server_id = await _register(lclient, tenant, mcp_oauth.registration())
    assert (await check(lclient, tenant, server_id))["ok"] is True
    before = mcp_oauth.gate.token_requests
    # New credentials: the cached token belongs to the old ones and is not used.
    await _patch_auth(lclient, tenant, server_id, {**mcp_oauth.auth, "client_secret": "wrong"})
    result = await check(lclient, tenant, server_id)
    assert (result["ok"], result["reason"]) == (False, "auth_rejected")
    assert "invalid_client" in result["error"]
    assert "wrong" not in result["error"]
    assert mcp_oauth.gate.token_requests == before + 1


async def test_mtls_needs_the_client_certificate(
    lclient: httpx.AsyncClient,
    tenant: Tenant,
    mcp_mtls: McpFixture,
    mtls_material: MtlsMaterial,
) -> None:
    server_id = await _register(lclient, tenant, mcp_mtls.registration())
    assert (await check(lclient, tenant, server_id))["ok"] is True
    # A certificate from a CA the server does not trust.
    stranger = {
        **mcp_mtls.auth,
        "client_cert_pem": mtls_material.stranger.cert_pem,
        "client_key_pem": mtls_material.stranger.key_pem,
    }
    await _patch_auth(lclient, tenant, server_id, stranger)
    result = await check(lclient, tenant, server_id)
    assert (result["ok"], result["reason"]) == (False, "tls")
    # No certificate at all (and so no private CA to trust either).
    await _patch_auth(lclient, tenant, server_id, {"type": "none"})
    result = await check(lclient, tenant, server_id)
    assert (result["ok"], result["reason"]) == (False, "tls")
    # The right certificate, but trusting a CA that did not issue the server's certificate.
    await _patch_auth(
        lclient, tenant, server_id, {**mcp_mtls.auth, "ca_bundle_pem": mtls_material.ca_pem}
    )
    result = await check(lclient, tenant, server_id)
    assert (result["ok"], result["reason"]) == (False, "tls")
    assert "certificate verify failed" in result["error"]


async def test_mtls_server_name_must_match(
    lclient: httpx.AsyncClient, tenant: Tenant, wire: Wire, mcp_mtls: McpFixture
) -> None:
    # The guard connects to the resolved address but verifies the name in the URL: the
    # server's certificate names 127.0.0.1 and localhost, not this test name.
    wire.name("mtls.test", ["127.0.0.1"])
    server_id = await _register(
        lclient, tenant, mcp_mtls.registration(url=mcp_mtls.url_for("mtls.test"))
    )
    result = await check(lclient, tenant, server_id)
    assert (result["ok"], result["reason"]) == (False, "tls")
    assert wire.attempts == [("127.0.0.1", mcp_mtls.port)]


async def test_a_test_name_resolving_to_loopback_is_reached_through_the_resolver(
    lclient: httpx.AsyncClient, tenant: Tenant, wire: Wire, mcp_bearer: McpFixture
) -> None:
    wire.name("bearer.test", ["127.0.0.1"])
    server_id = await _register(
        lclient, tenant, mcp_bearer.registration(url=mcp_bearer.url_for("bearer.test"))
    )
    assert (await check(lclient, tenant, server_id))["ok"] is True
    assert "bearer.test" in wire.resolver.calls
    assert set(wire.attempts) == {("127.0.0.1", mcp_bearer.port)}


@pytest.mark.parametrize(
    ("path", "reason"),
    [("/nothing-here", "protocol_error"), ("/redirect/418?to=x", "protocol_error")],
)
async def test_a_url_that_is_not_an_mcp_endpoint_is_a_protocol_error(
    lclient: httpx.AsyncClient, tenant: Tenant, mcp_open: McpFixture, path: str, reason: str
) -> None:
    server_id = await _register(
        lclient, tenant, mcp_open.registration(url=mcp_open.base_url + path)
    )
    result = await check(lclient, tenant, server_id)
    assert (result["ok"], result["reason"]) == (False, reason)


async def test_nothing_listening_is_connection_refused(
    lclient: httpx.AsyncClient, tenant: Tenant, wire: Wire
) -> None:
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago, now closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server_id = await _register(
        lclient,
        tenant,
        {"name": "down", "url": f"http://127.0.0.1:{port}/mcp", "auto_discover": False},
    )
    result = await check(lclient, tenant, server_id)
    assert (result["ok"], result["reason"]) == (False, "connection_refused")
    assert wire.attempts == [("127.0.0.1", port)]


async def test_missing_stored_credentials_are_reported_not_raised(
    lclient: httpx.AsyncClient,
    loopback_app: FastAPI,
    tenant: Tenant,
    wire: Wire,
    mcp_bearer: McpFixture,
) -> None:
    server_id = await _register(lclient, tenant, mcp_bearer.registration())
    await loopback_app.state.secret_store.delete(tenant.org_id, secret_path(server_id))
    result = await check(lclient, tenant, server_id)
    assert (result["ok"], result["reason"]) == (False, "auth_rejected")
    assert "set them again" in result["error"]
    assert wire.attempts == []


async def test_check_needs_write_access(
    lclient: httpx.AsyncClient,
    tenant: Tenant,
    mcp_open: McpFixture,
    make_member: MemberFactory,
) -> None:
    server_id = await _register(lclient, tenant, mcp_open.registration())
    viewer = await make_member(tenant, ["viewer"])
    response = await lclient.post(f"{SERVERS}/{server_id}/connection-check", headers=viewer.headers)
    assert_problem(response, 403)
