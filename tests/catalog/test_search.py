"""The capability search API (stories 3.1 and 3.2): matching, ranking, filters, policy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from sprintconnect.authz.decision import Decision, DecisionRequest
from tests.catalog.conftest import Seed, search
from tests.conftest import MemberFactory, ShiftableClock, Tenant, TenantFactory, assert_problem


@pytest.fixture
async def weather_org(make_tenant: TenantFactory, seed: Seed) -> Tenant:
    tenant = await make_tenant()
    await seed(
        tenant,
        "alpha",
        {"get_current_weather": "Current conditions for a city", "get_calendar": "Upcoming events"},
        tags=["public", "external"],
    )
    await seed(tenant, "beta", {"weather_forecast": "Forecast for the next days"}, tags=["public"])
    await seed(
        tenant,
        "gamma",
        {"current_weather": "Now", "calendar": "Calendar access"},
        environment="production",
        tags=["public", "external"],
    )
    await seed(
        tenant,
        "delta",
        {"send_email": "Send a message about the weather"},
        prompts={"weather": "A prompt"},
    )
    return tenant


async def test_exact_match_and_kinds(client: httpx.AsyncClient, weather_org: Tenant) -> None:
    body = (await search(client, weather_org, capability="weather_forecast", match="exact")).json()
    assert [r["server"]["name"] for r in body["items"]] == ["beta"]
    match = body["items"][0]["capabilities"][0]
    assert match["name"] == "weather_forecast"
    assert match["definition"]["inputSchema"]["type"] == "object"
    assert match["snapshot_version"] == 1
    assert body["items"][0]["health"]["status"] == "unknown"
    assert match["matched_on"] == "name"
    assert body["search"]["query"] == {
        "capabilities": ["weather_forecast"],
        "kind": "tool",
        "match": "exact",
    }
    prompts = await search(client, weather_org, capability="weather", kind="prompt", match="exact")
    assert [r["server"]["name"] for r in prompts.json()["items"]] == ["delta"]
    assert (await search(client, weather_org, capability="weather", match="exact")).json()[
        "items"
    ] == []


async def test_fuzzy_finds_words_substrings_and_typos_ranked(
    client: httpx.AsyncClient, weather_org: Tenant
) -> None:
    body = (await search(client, weather_org, capability="weather", fuzzy="true")).json()
    names = [r["server"]["name"] for r in body["items"]]
    assert set(names) >= {"alpha", "beta", "gamma"}
    scores = [r["score"] for r in body["items"]]
    assert scores == sorted(scores, reverse=True)
    assert body["search"]["fuzzy_engine"] == "trigram"
    assert body["search"]["query"]["match"] == "fuzzy"
    typo = (await search(client, weather_org, capability="wether", fuzzy="true")).json()
    assert {"alpha", "beta", "gamma"} <= {r["server"]["name"] for r in typo["items"]}
    assert all(0 < r["score"] <= 1 for r in typo["items"])
    nothing = (await search(client, weather_org, capability="xylophone", fuzzy="true")).json()
    assert nothing["items"] == []
    assert nothing["search"]["total"] == 0


async def test_several_capabilities_must_all_match(
    client: httpx.AsyncClient, weather_org: Tenant
) -> None:
    body = (await search(client, weather_org, capability="weather,calendar", fuzzy="true")).json()
    assert sorted(r["server"]["name"] for r in body["items"]) == ["alpha", "gamma"]
    terms = {c["matched_term"] for c in body["items"][0]["capabilities"]}
    assert terms == {"weather", "calendar"}
    exact = (
        await search(client, weather_org, capability="current_weather,calendar", match="exact")
    ).json()
    assert [r["server"]["name"] for r in exact["items"]] == ["gamma"]


async def test_filters_environment_tags_status(
    client: httpx.AsyncClient, weather_org: Tenant
) -> None:
    def names(response: httpx.Response) -> list[str]:
        return sorted(r["server"]["name"] for r in response.json()["items"])

    fuzzy = {"capability": "weather", "fuzzy": "true"}
    assert names(await search(client, weather_org, **fuzzy, environment="production")) == ["gamma"]
    assert names(await search(client, weather_org, **fuzzy, tags="public,external")) == [
        "alpha",
        "gamma",
    ]
    assert names(await search(client, weather_org, **fuzzy, status="pending_discovery")) == []
    assert names(await search(client, weather_org, **fuzzy, health="healthy")) == []
    browse = await search(client, weather_org, tags="external")
    assert names(browse) == ["alpha", "gamma"]
    meta = browse.json()["search"]
    assert meta["filters"]["tags"] == ["external"]
    assert meta["took_ms"] >= 0


async def test_pagination_is_stable_and_complete(
    client: httpx.AsyncClient, weather_org: Tenant
) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, object] = {"capability": "weather", "fuzzy": "true", "limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = (await search(client, weather_org, **params)).json()
        seen += [r["server"]["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    full = (await search(client, weather_org, capability="weather", fuzzy="true")).json()
    assert seen == [r["server"]["id"] for r in full["items"]]
    other = await search(
        client, weather_org, capability="calendar", fuzzy="true", limit=1, cursor=cursor or "e30"
    )
    assert_problem(other, 422, "invalid-cursor")


@pytest.mark.parametrize(
    "params",
    [
        {"capability": "weather;drop"},
        {"capability": ",".join(f"t{i}" for i in range(11))},
        {"capability": "x", "kind": "gadget"},
        {"capability": "x", "tags": "Not A Slug"},
        {"capability": "x", "environment": "PROD!"},
        {"capability": "x", "cursor": "!!"},
        {"capability": "x", "limit": 0},
        {"capability": "x", "fuzzy": "maybe"},
    ],
)
async def test_bad_queries_are_422(
    client: httpx.AsyncClient, tenant: Tenant, params: dict[str, object]
) -> None:
    assert_problem(await search(client, tenant, **params), 422)


async def test_other_organizations_never_appear(
    client: httpx.AsyncClient, weather_org: Tenant, make_tenant: TenantFactory, seed: Seed
) -> None:
    other = await make_tenant()
    await seed(other, "other-weather", {"get_current_weather": "theirs"})
    mine = (
        await search(client, weather_org, capability="get_current_weather", match="exact")
    ).json()
    assert [r["server"]["name"] for r in mine["items"]] == ["alpha"]
    theirs = (await search(client, other, capability="weather", fuzzy="true")).json()
    assert [r["server"]["name"] for r in theirs["items"]] == ["other-weather"]


async def test_roles_scopes_and_production(
    client: httpx.AsyncClient, weather_org: Tenant, make_member: MemberFactory
) -> None:
    viewer = await make_member(weather_org, ["viewer"])
    body = (await search(client, viewer, capability="weather", fuzzy="true")).json()
    assert "gamma" not in {r["server"]["name"] for r in body["items"]}
    assert body["search"]["removed_by_policy"] == 1
    narrow = await make_member(weather_org, ["admin"], scopes=["servers:read"])
    assert_problem(await search(client, narrow, capability="weather"), 403, "insufficient-scope")
    scoped = await make_member(weather_org, ["admin"], scopes=["discovery:read"])
    assert (await search(client, scoped, capability="weather", fuzzy="true")).status_code == 200


async def publish(client: httpx.AsyncClient, tenant: Tenant, text: str) -> None:
    response = await client.post("/api/v1/policies", json={"text": text}, headers=tenant.headers)
    assert response.status_code == 201, response.text


async def test_capability_level_and_tag_policies(
    client: httpx.AsyncClient, weather_org: Tenant
) -> None:
    await publish(
        client,
        weather_org,
        """
@id("no-forecasts") forbid (principal, action == Action::"discovery:read", resource is Capability)
when { resource.name == "weather_forecast" };
@id("no-external") forbid (principal, action == Action::"discovery:read", resource is Server)
when { resource.tags.contains("external") && resource.environment == "production" };""",
    )
    body = (await search(client, weather_org, capability="weather", fuzzy="true")).json()
    names = {r["server"]["name"] for r in body["items"]}
    assert "gamma" not in names
    assert "alpha" in names
    beta = next((r for r in body["items"] if r["server"]["name"] == "beta"), None)
    assert beta is None or all(c["name"] != "weather_forecast" for c in beta["capabilities"])
    assert body["search"]["removed_by_policy"] >= 1


async def test_time_window_policy(
    client: httpx.AsyncClient, weather_org: Tenant, moved_clock: ShiftableClock
) -> None:
    await publish(
        client,
        weather_org,
        """
@id("office-hours") forbid (principal, action == Action::"discovery:read", resource is Server)
unless { context.minute_of_day >= 540 && context.minute_of_day < 1020 };""",
    )
    now = datetime.now(UTC)
    moved_clock.offset = now.replace(hour=10, minute=0) - now
    inside = (await search(client, weather_org, capability="weather", fuzzy="true")).json()
    assert inside["items"]
    moved_clock.offset = now.replace(hour=22, minute=0) - now + timedelta(seconds=1)
    outside = (await search(client, weather_org, capability="weather", fuzzy="true")).json()
    assert outside["items"] == []
    assert outside["search"]["removed_by_policy"] == inside["search"]["total"]


class _FailOnServers:
    """Allows the collection-level check, fails when asked about servers."""

    def __init__(self, inner: object) -> None:
        self.inner = inner

    async def decide(self, request: DecisionRequest, org_policies: str) -> Decision:
        return (await self.decide_many([request], org_policies))[0]

    async def decide_many(
        self, requests: list[DecisionRequest], org_policies: str
    ) -> list[Decision]:
        if any(r.resource.type == "Server" for r in requests):
            raise RuntimeError("policy engine down")
        return await self.inner.decide_many(requests, org_policies)  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
def failing_pdp(app: FastAPI) -> Iterator[None]:
    authorizer = app.state.authorizer
    original = authorizer.pdp
    authorizer.pdp = _FailOnServers(original)
    yield
    authorizer.pdp = original


async def test_policy_failure_fails_closed(
    client: httpx.AsyncClient, weather_org: Tenant, failing_pdp: None
) -> None:
    await publish(client, weather_org, "forbid (principal, action, resource) when { false };")
    response = await search(client, weather_org, capability="weather", fuzzy="true")
    problem = assert_problem(response, 403, "policy-denied")
    assert problem["decision_id"]
    assert "items" not in problem


async def test_results_are_cached_and_invalidated(
    client: httpx.AsyncClient, weather_org: Tenant, seed: Seed
) -> None:
    first = (await search(client, weather_org, capability="weather", fuzzy="true")).json()
    again = (await search(client, weather_org, capability="weather", fuzzy="true")).json()
    assert first["search"]["cached"] is False
    assert again["search"]["cached"] is True
    assert again["items"] == first["items"]
    await seed(weather_org, "epsilon", {"weather_radar": "Radar images"})
    fresh = (await search(client, weather_org, capability="weather", fuzzy="true")).json()
    assert fresh["search"]["cached"] is False
    assert "epsilon" in {r["server"]["name"] for r in fresh["items"]}
    await publish(
        client,
        weather_org,
        'forbid (principal, action, resource is Server) when { resource.name == "epsilon" };',
    )
    after = (await search(client, weather_org, capability="weather", fuzzy="true")).json()
    assert "epsilon" not in {r["server"]["name"] for r in after["items"]}
