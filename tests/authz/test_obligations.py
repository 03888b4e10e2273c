"""Policy obligations are carried out: redaction, throttle classes, full-request audit, and a
deny (with a decision id) for any obligation this server does not understand."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from sprintconnect.authz import obligations
from sprintconnect.authz.factory import build_authorizer
from sprintconnect.authz.obligations import ThrottledByPolicy
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.identity.ratelimit import RateLimiter
from sprintconnect.kit.scrub import scrub_body, scrub_query
from sprintconnect.runtime import Runtime
from tests.authz.test_policies_api import publish
from tests.catalog import conftest as catalog
from tests.catalog.conftest import Seed, search
from tests.conftest import MemberFactory, Tenant, assert_problem, make_settings
from tests.mcp_server.support import SERVERS, register, registered_id

# The catalog's fixture: servers with a catalogued snapshot, for searches.
seed = catalog.seed

PCI_REDACT = """@id("pci-redact")
@obligation("redact:url,redact:tags,redact:auth.client_id")
permit (principal, action == Action::"servers:read", resource is Server)
when { resource.tags.contains("pci") };"""

OAUTH = {
    "type": "oauth2_client_credentials",
    "token_url": "https://auth.example.com/token",
    "client_id": "payments-client",
    "client_secret": "client-secret-value-1",
}


def servers_by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in body["items"]}


async def test_redaction_on_read_and_list_applies_per_item(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    pci = await registered_id(client, tenant, name="payments", tags=["pci"], auth=OAUTH)
    plain = await registered_id(client, tenant, name="weather", tags=["public"], auth=OAUTH)
    assert (await publish(client, tenant, PCI_REDACT)).status_code == 201

    one = (await client.get(f"{SERVERS}/{pci}", headers=tenant.headers)).json()
    assert one["url"] is None
    assert one["tags"] is None
    assert one["auth"]["client_id"] is None
    assert one["auth"]["type"] == "oauth2_client_credentials"  # only the path named goes
    assert one["auth"]["token_url"] == OAUTH["token_url"]
    assert one["redacted"] == ["auth.client_id", "tags", "url"]
    whole = (await client.get(f"{SERVERS}/{plain}", headers=tenant.headers)).json()
    assert whole["url"] == "https://mcp.example.com/mcp"
    assert whole["tags"] == ["public"]
    assert whole["auth"]["client_id"] == "payments-client"
    assert whole["redacted"] == []

    listed = await client.get(SERVERS, headers=tenant.headers)
    assert listed.status_code == 200, listed.text
    items = servers_by_name(listed.json())
    assert items["payments"]["url"] is None
    assert items["payments"]["redacted"] == ["auth.client_id", "tags", "url"]
    assert items["weather"]["url"] == "https://mcp.example.com/mcp"
    assert items["weather"]["redacted"] == []


async def test_a_collection_decision_redacts_every_item(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await register(client, tenant, name="alpha", description="first")
    await register(client, tenant, name="beta", description="second")
    policy = """@id("no-descriptions") @obligation("redact:description")
permit (principal, action == Action::"servers:read", resource == Resource::"servers");"""
    assert (await publish(client, tenant, policy)).status_code == 201
    items = (await client.get(SERVERS, headers=tenant.headers)).json()["items"]
    assert [(s["description"], s["redacted"]) for s in items] == [(None, ["description"])] * 2


async def test_write_decisions_redact_the_answers_they_produce(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    policy = """@id("pci-writes") @obligation("redact:url")
permit (principal, action == Action::"servers:write", resource is Server)
when { resource.tags.contains("pci") };"""
    assert (await publish(client, tenant, policy)).status_code == 201
    registered = (await register(client, tenant, tags=["pci"]))["server"]
    assert registered["url"] is None
    assert registered["redacted"] == ["url"]
    changed = await client.patch(
        f"{SERVERS}/{registered['id']}", json={"description": "x"}, headers=tenant.headers
    )
    assert changed.json()["url"] is None
    # Reading is a different decision, which this policy does not oblige.
    read = await client.get(f"{SERVERS}/{registered['id']}", headers=tenant.headers)
    assert read.json()["url"] == "https://mcp.example.com/mcp"


@pytest.mark.parametrize(
    "obligation",
    [
        "redact_credentials",  # not in the vocabulary
        "throttle:nope",  # no such class is configured
        "redact:secret_field",  # not a field of a server
        "redact:definition",  # a capability's field, not a server's
        "audit:partial",
    ],
)
async def test_an_obligation_not_understood_denies_with_a_decision_id(
    client: httpx.AsyncClient, tenant: Tenant, seed: Seed, obligation: str
) -> None:
    server = await seed(tenant, "tools", {"get_weather": "Forecasts"})
    policy = f"""@id("odd") @obligation("{obligation}")
permit (principal, action in [Action::"servers:read", Action::"discovery:read"],
        resource is Server);"""
    assert (await publish(client, tenant, policy)).status_code == 201
    for response in (
        await client.get(f"{SERVERS}/{server}", headers=tenant.headers),
        await client.get(SERVERS, headers=tenant.headers),
        await search(client, tenant, capability="get_weather", match="exact"),
    ):
        problem = assert_problem(response, 403, "obligation-not-understood")
        assert len(problem["decision_id"]) == 32
        assert obligation in problem["detail"]
    dry = await client.post(
        "/api/v1/policies/dry-run",
        json={
            "action": "servers:read",
            "resource": {
                "type": "Server",
                "id": server,
                "attrs": {"name": "tools", "environment": "staging", "tags": []},
            },
        },
        headers=tenant.headers,
    )
    assert dry.json()["allowed"] is False
    assert any("obligation not understood" in e for e in dry.json()["errors"])


async def test_redaction_on_a_collection_nothing_redacts_denies(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    policy = """@id("keys") @obligation("redact:url")
permit (principal, action == Action::"api_keys:read", resource);"""
    assert (await publish(client, tenant, policy)).status_code == 201
    problem = assert_problem(
        await client.get("/api/v1/api-keys", headers=tenant.headers),
        403,
        "obligation-not-understood",
    )
    assert problem["decision_id"]


async def test_search_redacts_servers_and_capabilities_per_item(
    client: httpx.AsyncClient, tenant: Tenant, seed: Seed
) -> None:
    await seed(tenant, "payments", {"get_weather": "Forecasts"}, tags=["pci"])
    await seed(tenant, "open", {"get_weather": "Forecasts"}, tags=["public"])
    policy = """@id("search-pci") @obligation("redact:url")
permit (principal, action == Action::"discovery:read", resource is Server)
when { resource.tags.contains("pci") };
@id("search-cap") @obligation("redact:definition,redact:description")
permit (principal, action == Action::"discovery:read", resource is Capability)
when { resource.server == "payments" };"""
    assert (await publish(client, tenant, policy)).status_code == 201
    for cached in (False, True):
        body = (await search(client, tenant, capability="get_weather", match="exact")).json()
        assert body["search"]["cached"] is cached
        results = {r["server"]["name"]: r for r in body["items"]}
        assert results["payments"]["server"]["url"] is None
        assert results["payments"]["server"]["redacted"] == ["url"]
        capability = results["payments"]["capabilities"][0]
        assert capability["definition"] is None
        assert capability["description"] is None
        assert capability["redacted"] == ["definition", "description"]
        assert results["open"]["server"]["url"] == "https://mcp.example.com/mcp"
        assert results["open"]["capabilities"][0]["definition"]["name"] == "get_weather"
        assert results["open"]["capabilities"][0]["redacted"] == []


async def test_redacted_and_whole_search_answers_never_share_a_cache_entry(
    client: httpx.AsyncClient, tenant: Tenant, seed: Seed, make_member: MemberFactory
) -> None:
    await seed(tenant, "tools", {"get_weather": "Forecasts"})
    # Two members alike in everything (role, scopes) but their identity.
    named = await make_member(tenant, ["viewer"], scopes=["read"])
    other = await make_member(tenant, ["viewer"], scopes=["read"])
    policy = f"""@id("one-member") @obligation("redact:url")
permit (principal == User::"{named.user_id}", action == Action::"discovery:read",
        resource is Server);"""
    assert (await publish(client, tenant, policy)).status_code == 201
    for round_ in range(2):
        first = (await search(client, named, capability="get_weather", match="exact")).json()
        second = (await search(client, other, capability="get_weather", match="exact")).json()
        assert first["search"]["cached"] is second["search"]["cached"] is (round_ == 1)
        assert first["items"][0]["server"]["url"] is None
        assert second["items"][0]["server"]["url"] == "https://mcp.example.com/mcp"


@pytest.fixture
def throttle_class(app: FastAPI) -> Iterator[Callable[[str, str], None]]:
    """Configure throttle classes on the running app (as SPRINTCONNECT_THROTTLE_CLASSES does)."""
    authorizer = app.state.authorizer
    original = authorizer.throttles

    def configure(name: str, limit: str) -> None:
        authorizer.throttles = {
            name: RateLimiter(
                limit, None, namespace=f"throttle-{uuid.uuid4().hex}", error=ThrottledByPolicy
            )
        }

    yield configure
    authorizer.throttles = original


async def test_throttle_class_counts_each_request_once_and_answers_429(
    client: httpx.AsyncClient, tenant: Tenant, throttle_class: Callable[[str, str], None]
) -> None:
    servers = [await registered_id(client, tenant) for _ in range(3)]
    throttle_class("strict", "2/minute")
    policy = """@id("strict-reads") @obligation("throttle:strict")
permit (principal, action == Action::"servers:read", resource);"""
    assert (await publish(client, tenant, policy)).status_code == 201
    # A list page of three servers (four decisions naming the class) counts once.
    assert (await client.get(SERVERS, headers=tenant.headers)).status_code == 200
    assert (await client.get(f"{SERVERS}/{servers[0]}", headers=tenant.headers)).status_code == 200
    for path in (SERVERS, f"{SERVERS}/{servers[1]}"):
        response = await client.get(path, headers=tenant.headers)
        problem = assert_problem(response, 429, "throttled-by-policy")
        assert int(response.headers["Retry-After"]) >= 1
        assert problem["retry_after"] >= 1
    # Requests no throttling policy matches are not counted.
    assert (await client.get("/api/v1/api-keys", headers=tenant.headers)).status_code == 200


async def test_throttle_class_applies_to_search_also_when_cached(
    client: httpx.AsyncClient,
    tenant: Tenant,
    seed: Seed,
    throttle_class: Callable[[str, str], None],
) -> None:
    await seed(tenant, "tools", {"get_weather": "Forecasts"})
    throttle_class("strict", "2/minute")
    policy = """@id("strict-search") @obligation("throttle:strict")
permit (principal, action == Action::"discovery:read", resource is Server);"""
    assert (await publish(client, tenant, policy)).status_code == 201
    first = await search(client, tenant, capability="get_weather", match="exact")
    second = await search(client, tenant, capability="get_weather", match="exact")
    assert second.json()["search"]["cached"] is True, first.text
    assert_problem(
        await search(client, tenant, capability="get_weather", match="exact"),
        429,
        "throttled-by-policy",
    )


async def audited(runtime: Runtime, tenant: Tenant) -> list[dict[str, Any]]:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        rows = await session.execute(
            text(
                "SELECT target_id, details, actor_id FROM audit_events "
                "WHERE tag = 'org:request:audited' ORDER BY seq"
            )
        )
        return [dict(row) for row in rows.mappings()]


async def test_audit_full_writes_one_entry_per_request_without_secrets(
    client: httpx.AsyncClient, tenant: Tenant, seed: Seed, runtime: Runtime
) -> None:
    await register(client, tenant, name="quiet")
    policy = """@id("audit-all") @obligation("audit:full")
permit (principal, action in [Action::"servers:read", Action::"servers:write",
                              Action::"discovery:read"], resource);"""
    assert (await publish(client, tenant, policy)).status_code == 201
    assert await audited(runtime, tenant) == []

    listed = await client.get(
        SERVERS, params={"environment": "development", "limit": 5}, headers=tenant.headers
    )
    assert listed.status_code == 200
    entries = await audited(runtime, tenant)
    assert len(entries) == 1  # one for the request, not one per decision or item
    details = entries[0]["details"]
    assert details["method"] == "GET"
    assert details["path"] == SERVERS
    assert details["query"] == {"environment": ["development"], "limit": ["5"]}
    assert details["body"] is None
    assert details["action"] == "servers:read"
    assert len(details["decision_id"]) == 32
    assert entries[0]["target_id"] == listed.headers["x-request-id"]

    secret = "bearer-secret-" + uuid.uuid4().hex
    await register(
        client, tenant, name="secretive", auth={"type": "bearer", "token": secret}, tags=["x"]
    )
    body = (await audited(runtime, tenant))[-1]["details"]
    assert body["method"] == "POST"
    assert body["body"]["name"] == "secretive"
    assert body["body"]["tags"] == ["x"]
    assert body["body"]["auth"] == {"type": "bearer", "token": "[redacted]"}
    assert secret not in str(await audited(runtime, tenant))

    await seed(tenant, "tools", {"get_weather": "Forecasts"})
    before = len(await audited(runtime, tenant))
    found = await search(client, tenant, capability="get_weather", match="exact")
    assert found.status_code == 200, found.text
    after = await audited(runtime, tenant)
    assert len(after) == before + 1
    assert after[-1]["details"]["query"]["capability"] == ["get_weather"]


def test_throttle_classes_setting_builds_limiters_and_refuses_bad_rates(tmp_path: Any) -> None:
    settings = make_settings(None, tmp_path, throttle_classes={"strict": "10/minute"})
    assert set(build_authorizer(settings).throttles) == {"strict"}
    with pytest.raises(ValueError, match="rate limit"):
        make_settings(None, tmp_path, throttle_classes={"strict": "often"})
    with pytest.raises(ValueError, match="slug"):
        make_settings(None, tmp_path, throttle_classes={"Strict Class": "1/second"})


@pytest.mark.parametrize(
    ("item", "resource_type", "kind", "understood"),
    [
        ("redact:url", "Server", None, True),
        ("redact:auth.client_id", "Server", None, True),
        ("redact:definition", "Capability", None, True),
        ("redact:url", "Capability", None, False),
        ("redact:url", "Resource", "servers", True),
        ("redact:definition", "Resource", "discovery", True),
        ("redact:url", "Resource", "api_keys", False),
        ("redact:", "Server", None, False),
        ("redact:auth.token", "Server", None, False),
        ("throttle:strict", "Resource", "api_keys", True),
        ("throttle:other", "Server", None, False),
        ("throttle", "Server", None, False),
        ("audit:full", "Capability", None, True),
        ("audit:full:now", "Server", None, False),
        ("REDACT:url", "Server", None, False),
    ],
)
def test_the_vocabulary(item: str, resource_type: str, kind: str | None, understood: bool) -> None:
    def parse() -> object:
        return obligations.parse(
            item, resource_type=resource_type, kind=kind, throttle_classes={"strict"}
        )

    if understood:
        parse()
    else:
        with pytest.raises(obligations.NotUnderstood, match="not understood"):
            parse()


def test_audited_bodies_lose_every_secret() -> None:
    body = {
        "name": "s",
        "auth": {
            "type": "oauth2_client_credentials",
            "client_id": "id-1",
            "client_secret": "cs",
            "client_key_pem": "pem",
        },
        "nested": [{"type": "header", "header_name": "X-Api-Key", "value": "hv"}],
        "token": "t",
        "password": "p",
    }
    scrubbed = scrub_body(json.dumps(body).encode())
    assert scrubbed["auth"]["client_id"] == "id-1"
    assert scrubbed["nested"][0]["header_name"] == "X-Api-Key"
    assert not {"cs", "pem", "hv", "t", "p"} & set(json.dumps(scrubbed).replace('"', " ").split())
    assert scrub_body(b"not json") == {"not_json": True, "bytes": 8}
    assert scrub_query("token=abc&limit=5") == {"token": ["[redacted]"], "limit": ["5"]}
