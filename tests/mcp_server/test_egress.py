"""The SSRF list from TESTING.md against the registry: at registration, and at connect time.

Registration decides from the URL's text alone: each denied URL is a 422 ``egress-denied``
naming the reason, nothing is created, and no name is resolved nor socket opened. At connect
time, names resolve through the wire's fake resolver and sockets open only to loopback, so a
broken guard could not send a packet off this machine.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import Engine

from tests.conftest import Tenant, assert_problem
from tests.egress.cases import (
    DENIED_ADDRESSES,
    DENIED_HOSTS,
    DENIED_PORTS,
    DENIED_SCHEMES,
    PUBLIC_CONTROLS,
)
from tests.fixtures.mcp_servers import McpFixture
from tests.mcp_server.conftest import Wire
from tests.mcp_server.support import SERVERS, check, register, secret_rows, server_audit

PARSER_TRICKS = [
    ("http://1.1.1.1 &@2.2.2.2# @3.3.3.3/", "invalid_characters"),
    ("http://1.1.1.1&@2.2.2.2#@3.3.3.3/", "userinfo_not_allowed"),
    ("http://a@127.0.0.1", "userinfo_not_allowed"),
    ("http://user:pass@mcp.example.com/", "userinfo_not_allowed"),
    ("http://mcp.example.com\\@127.0.0.1/", "invalid_characters"),
    ("http://127.0.0.1\\.mcp.example.com/", "invalid_characters"),
    ("http://mcp.example.com/\r\nHost: 127.0.0.1", "invalid_characters"),
    ("http://mcp.example.com/\nx", "invalid_characters"),
    ("http://mcp.example.com/\u200b", "invalid_characters"),
    (" http://mcp.example.com/", "invalid_characters"),
    ("mcp.example.com/path", "invalid_url"),
    ("not a url", "invalid_characters"),
    ("http:///path", "invalid_host"),
    ("http://[fe80::1%25eth0]/", "invalid_host"),
    ("http://mcp.example.com:65536/", "invalid_port"),
    ("http://localhost:8080/mcp", "address_denied:loopback"),
    ("http://metadata.google.internal/", "metadata_address"),
    ("ws://mcp.example.com/mcp", "scheme_not_allowed"),
]

REGISTRATION_CASES: list[tuple[str, str]] = [
    *[
        (f"{scheme}://{host}/mcp", reason)
        for host, reason in DENIED_HOSTS
        for scheme in ("http", "https")
    ],
    *[(url, "scheme_not_allowed") for url in DENIED_SCHEMES],
    *[(f"http://mcp.example.com:{port}/mcp", "port_denied") for port in DENIED_PORTS],
    *PARSER_TRICKS,
]


async def _nothing_created(client: httpx.AsyncClient, tenant: Tenant, admin_engine: Engine) -> None:
    assert (await client.get(SERVERS, headers=tenant.headers)).json()["items"] == []
    assert server_audit(admin_engine, tenant.org_id) == []
    assert secret_rows(admin_engine, tenant.org_id) == {}


@pytest.mark.parametrize(("url", "reason"), REGISTRATION_CASES)
async def test_denied_urls_are_refused_at_registration(
    client: httpx.AsyncClient,
    tenant: Tenant,
    wire: Wire,
    admin_engine: Engine,
    url: str,
    reason: str,
) -> None:
    body = {"name": "ssrf", "url": url, "auth": {"type": "bearer", "token": "never-stored"}}
    problem = assert_problem(
        await client.post(SERVERS, json=body, headers=tenant.headers), 422, "egress-denied"
    )
    assert problem["reason"] == reason
    assert "never-stored" not in str(problem)
    await _nothing_created(client, tenant, admin_engine)
    assert wire.attempts == []


async def test_a_nul_in_the_url_is_refused_before_the_egress_check(
    client: httpx.AsyncClient, tenant: Tenant, wire: Wire, admin_engine: Engine
) -> None:
    # NUL characters are refused app-wide, before any route (and so the egress guard) runs.
    body = {
        "name": "ssrf",
        "url": "http://mcp.example.com/\x00",
        "auth": {"type": "bearer", "token": "never-stored"},
    }
    problem = assert_problem(
        await client.post(SERVERS, json=body, headers=tenant.headers), 422, "validation-failed"
    )
    assert problem["errors"][0]["loc"] == ["body", "url"]
    assert "never-stored" not in str(problem)
    await _nothing_created(client, tenant, admin_engine)
    assert wire.attempts == []
    assert wire.resolver.calls == []


@pytest.mark.parametrize(("host", "reason"), DENIED_HOSTS[:12])
async def test_denied_token_urls_are_refused_at_registration(
    client: httpx.AsyncClient,
    tenant: Tenant,
    admin_engine: Engine,
    host: str,
    reason: str,
) -> None:
    auth = {
        "type": "oauth2_client_credentials",
        "token_url": f"https://{host}/oauth/token",
        "client_id": "c",
        "client_secret": "never-stored",
    }
    body = {"name": "ssrf", "url": "https://mcp.example.com/mcp", "auth": auth}
    problem = assert_problem(
        await client.post(SERVERS, json=body, headers=tenant.headers), 422, "egress-denied"
    )
    assert problem["reason"] == reason
    await _nothing_created(client, tenant, admin_engine)


@pytest.mark.parametrize("host", PUBLIC_CONTROLS)
async def test_public_controls_are_accepted(
    client: httpx.AsyncClient, tenant: Tenant, wire: Wire, host: str
) -> None:
    server = (await register(client, tenant, url=f"https://{host}/mcp"))["server"]
    assert server["url"] == f"https://{host}/mcp"
    assert wire.attempts == []


async def test_names_are_not_resolved_at_registration(
    client: httpx.AsyncClient, tenant: Tenant, wire: Wire
) -> None:
    # A name that would resolve inside is still only text at registration: it is checked
    # when a connection is made (below), never by a lookup now.
    wire.name("inside.test", ["10.0.0.1"])
    await register(client, tenant, url="http://inside.test:8080/mcp")
    assert wire.resolver.calls == []
    assert wire.attempts == []


async def test_loopback_is_accepted_when_the_operator_allowed_it(
    lclient: httpx.AsyncClient, tenant: Tenant
) -> None:
    for url in ("http://127.0.0.1:8080/mcp", "http://[::1]:8080/mcp", "http://localhost:9/mcp"):
        assert (await register(lclient, tenant, url=url))["server"]["url"] == url
    # The other ranges stay closed.
    problem = assert_problem(
        await lclient.post(
            SERVERS, json={"name": "x", "url": "http://10.0.0.1/mcp"}, headers=tenant.headers
        ),
        422,
        "egress-denied",
    )
    assert problem["reason"] == "address_denied:private"


async def test_the_org_allowlist_narrows_registration(
    client: httpx.AsyncClient, tenant: Tenant, admin_engine: Engine
) -> None:
    from sqlalchemy import text

    with admin_engine.begin() as conn:
        conn.execute(
            text("UPDATE organizations SET egress_allowlist = :a WHERE id = :o"),
            {"a": ["*.example.com"], "o": tenant.org_id},
        )
    await register(client, tenant, url="https://mcp.example.com/mcp")
    problem = assert_problem(
        await client.post(
            SERVERS, json={"name": "x", "url": "https://mcp.example.org/"}, headers=tenant.headers
        ),
        422,
        "egress-denied",
    )
    assert problem["reason"] == "not_in_allowlist"


# --- connect time ---


async def _check_name(
    client: httpx.AsyncClient, tenant: Tenant, url: str, **body: Any
) -> dict[str, Any]:
    server_id = (await register(client, tenant, url=url, **body))["server"]["id"]
    return await check(client, tenant, server_id)


@pytest.mark.parametrize(("address", "reason"), DENIED_ADDRESSES)
async def test_a_name_resolving_to_a_denied_address_is_refused_at_connect(
    client: httpx.AsyncClient, tenant: Tenant, wire: Wire, address: str, reason: str
) -> None:
    wire.name("target.test", [address])
    result = await _check_name(client, tenant, "http://target.test:8080/mcp")
    assert (result["ok"], result["reason"]) == (False, "egress_denied")
    assert result["error"].startswith(f"egress denied: {reason}.")
    assert wire.resolver.calls == ["target.test"]
    assert wire.attempts == []  # refused before any socket


@pytest.mark.parametrize("answer", [["100.63.255.254", "10.0.0.1"], ["10.0.0.1", "100.63.255.254"]])
async def test_every_resolved_address_is_checked_at_connect(
    client: httpx.AsyncClient, tenant: Tenant, wire: Wire, answer: list[str]
) -> None:
    wire.name("mixed.test", answer)
    result = await _check_name(client, tenant, "https://mixed.test/mcp")
    assert result["reason"] == "egress_denied"
    assert "address_denied:private" in result["error"]
    assert wire.attempts == []


async def test_an_unresolvable_name_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, wire: Wire
) -> None:
    result = await _check_name(client, tenant, "https://nowhere.test/mcp")
    assert result["reason"] == "egress_denied"
    assert "resolution_failed" in result["error"]
    assert wire.attempts == []


async def test_a_rebinding_name_is_pinned_and_then_refused(
    lclient: httpx.AsyncClient, tenant: Tenant, wire: Wire, mcp_open: McpFixture
) -> None:
    # First the name points at an allowed place (loopback, opened by the operator), and the
    # check reaches the fixture server there; then it rebinds to the metadata address.
    wire.name("rebind.test", ["127.0.0.1"])
    server_id = (await register(lclient, tenant, url=mcp_open.url_for("rebind.test")))["server"][
        "id"
    ]
    assert (await check(lclient, tenant, server_id))["ok"] is True
    reached = list(wire.attempts)
    assert set(reached) == {("127.0.0.1", mcp_open.port)}
    wire.name("rebind.test", ["169.254.169.254"])
    result = await check(lclient, tenant, server_id)
    assert (result["ok"], result["reason"]) == (False, "egress_denied")
    assert "metadata_address" in result["error"]
    assert wire.attempts == reached  # no socket after the rebinding


async def test_loopback_names_are_refused_at_connect_by_default(
    client: httpx.AsyncClient, tenant: Tenant, wire: Wire, mcp_open: McpFixture
) -> None:
    # The real fixture server is up on that port: only the guard stands between.
    wire.name("local.test", ["127.0.0.1"])
    accepted = mcp_open.gate.accepted
    result = await _check_name(client, tenant, mcp_open.url_for("local.test"))
    assert result["reason"] == "egress_denied"
    assert "address_denied:loopback" in result["error"]
    assert wire.attempts == []
    assert mcp_open.gate.accepted == accepted


REDIRECT_TARGETS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/admin",
    "http://[fd00:ec2::254]/",
    "http://2852039166/",
    "http://internal.test/mcp",  # the wire maps it to 10.0.0.1
]


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("target", REDIRECT_TARGETS)
@pytest.mark.parametrize("which", ["mcp_open", "mcp_sse"])
async def test_redirects_inward_are_not_followed(
    lclient: httpx.AsyncClient,
    tenant: Tenant,
    wire: Wire,
    request: pytest.FixtureRequest,
    which: str,
    code: int,
    target: str,
) -> None:
    fixture: McpFixture = request.getfixturevalue(which)
    wire.name("internal.test", ["10.0.0.1"])
    url = f"{fixture.base_url}/redirect/{code}?to={quote(target, safe='')}"
    result = await _check_name(lclient, tenant, url, transport=fixture.transport)
    assert result["ok"] is False
    assert result["reason"] in ("protocol_error", "egress_denied")
    # The only sockets went to the fixture server; the target was never even resolved.
    assert set(wire.attempts) == {("127.0.0.1", fixture.port)}
    assert wire.resolver.calls == []


async def test_a_token_endpoint_resolving_inside_is_refused_at_connect(
    lclient: httpx.AsyncClient, tenant: Tenant, wire: Wire, mcp_oauth: McpFixture
) -> None:
    wire.name("tokens.test", ["10.0.0.1"])
    before = mcp_oauth.gate.token_requests
    auth = {**mcp_oauth.auth, "token_url": "https://tokens.test/oauth/token"}
    result = await _check_name(lclient, tenant, mcp_oauth.url, auth=auth)
    assert (result["ok"], result["reason"]) == (False, "egress_denied")
    assert "address_denied:private" in result["error"]
    assert wire.attempts == []
    assert mcp_oauth.gate.token_requests == before


async def test_a_token_endpoint_redirecting_inward_is_not_followed(
    lclient: httpx.AsyncClient, tenant: Tenant, wire: Wire, mcp_oauth: McpFixture
) -> None:
    target = quote("http://169.254.169.254/token", safe="")
    auth = {**mcp_oauth.auth, "token_url": f"{mcp_oauth.base_url}/redirect/307?to={target}"}
    result = await _check_name(lclient, tenant, mcp_oauth.url, auth=auth)
    assert result["ok"] is False
    assert set(wire.attempts) == {("127.0.0.1", mcp_oauth.port)}
    assert wire.resolver.calls == []
