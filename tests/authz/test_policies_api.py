"""Organization policies: publish, validate, roll back, dry-run, time windows, fail closed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from sprintconnect.authz.decision import Decision, DecisionRequest
from tests.conftest import MemberFactory, ShiftableClock, Tenant, assert_problem

FORBID_KEY_LISTING = """@id("no-key-listing")
forbid (principal, action == Action::"api_keys:read", resource);"""

OFFICE_HOURS = """@id("office-hours")
forbid (principal, action == Action::"api_keys:read", resource)
unless { context.minute_of_day >= 540 && context.minute_of_day < 1020 &&
         context.day_of_week <= 5 };"""


async def publish(client: httpx.AsyncClient, tenant: Tenant, text: str) -> httpx.Response:
    return await client.post(
        "/api/v1/policies", json={"text": text, "comment": "test"}, headers=tenant.headers
    )


async def test_published_forbid_applies_on_the_next_request_and_rollback_restores(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    assert (await client.get("/api/v1/api-keys", headers=tenant.headers)).status_code == 200
    first = await publish(client, tenant, FORBID_KEY_LISTING)
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1
    denied = await client.get("/api/v1/api-keys", headers=tenant.headers)
    problem = assert_problem(denied, 403, "policy-denied")
    assert problem["reasons"] == ["no-key-listing"]
    assert len(problem["decision_id"]) == 32
    second = await publish(client, tenant, "")
    assert second.json()["version"] == 2
    assert (await client.get("/api/v1/api-keys", headers=tenant.headers)).status_code == 200
    rolled = await client.post(
        "/api/v1/policies/rollback", json={"version": 1}, headers=tenant.headers
    )
    assert rolled.status_code == 201
    assert rolled.json()["version"] == 3
    assert rolled.json()["rolled_back_from"] == 1
    assert rolled.json()["text"] == FORBID_KEY_LISTING
    assert_problem(await client.get("/api/v1/api-keys", headers=tenant.headers), 403)
    effective = (await client.get("/api/v1/policies", headers=tenant.headers)).json()
    assert effective["version"] == 3
    assert "base:rbac" in effective["base_policies"]
    assert "entity Server" in effective["schema_text"]
    versions = (await client.get("/api/v1/policies/versions", headers=tenant.headers)).json()
    assert [v["version"] for v in versions["items"]] == [3, 2, 1]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("permit(principal, action, resource", "syntax"),
        ("forbid(principal, action, resource) when { resource.colour == 1 };", "colour"),
        ("forbid(principal, action, resource) when { principal.suspended };", "suspended"),
        ('forbid(principal, action == Action::"servers:fly", resource);', "servers:fly"),
        ('@id("base:rbac") forbid(principal, action, resource);', "reserved"),
        (
            '@id("a") forbid(principal, action, resource);\n'
            '@id("a") forbid(principal, action, resource);',
            "duplicate",
        ),
        ("forbid(principal, action, resource) when { context.weather == 1 };", "weather"),
        ("permit(principal == ?principal, action, resource);", "template"),
    ],
)
async def test_invalid_policies_are_422_and_leave_the_current_version(
    client: httpx.AsyncClient, tenant: Tenant, text: str, fragment: str
) -> None:
    await publish(client, tenant, FORBID_KEY_LISTING)
    response = await publish(client, tenant, text)
    problem = assert_problem(response, 422, "policy-invalid")
    assert any(fragment in p for p in problem["problems"]), problem["problems"]
    effective = (await client.get("/api/v1/policies", headers=tenant.headers)).json()
    assert effective["version"] == 1
    assert effective["org_policies"] == FORBID_KEY_LISTING


async def test_oversized_and_unknown_versions(client: httpx.AsyncClient, tenant: Tenant) -> None:
    assert_problem(await publish(client, tenant, "x" * 70000), 422)
    assert_problem(
        await client.post("/api/v1/policies/rollback", json={"version": 9}, headers=tenant.headers),
        404,
        "policy-version-not-found",
    )
    assert_problem(await client.get("/api/v1/policies/versions/0", headers=tenant.headers), 422)
    assert_problem(await client.get("/api/v1/policies/versions/7", headers=tenant.headers), 404)


async def test_an_org_permit_cannot_widen_a_role(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    viewer = await make_member(tenant, ["viewer"])
    await publish(client, tenant, "permit(principal, action, resource);")
    assert_problem(await client.get("/api/v1/api-keys", headers=viewer.headers), 403)


async def test_time_window_through_dry_run_and_live(
    client: httpx.AsyncClient, tenant: Tenant, moved_clock: ShiftableClock
) -> None:
    await publish(client, tenant, OFFICE_HOURS)
    base = {
        "action": "api_keys:read",
        "resource": {"type": "Resource", "id": "api_keys", "attrs": {"kind": "api_keys"}},
    }
    inside = await client.post(
        "/api/v1/policies/dry-run",
        json={**base, "at": "2026-11-25T10:00:00Z"},  # a Wednesday, 10:00 UTC
        headers=tenant.headers,
    )
    assert inside.json()["allowed"] is True, inside.text
    assert inside.json()["context"]["minute_of_day"] == 600
    outside = await client.post(
        "/api/v1/policies/dry-run",
        json={**base, "at": "2026-11-25T22:00:00Z"},
        headers=tenant.headers,
    )
    assert outside.json()["allowed"] is False
    assert outside.json()["reasons"] == ["office-hours"]
    weekend = await client.post(
        "/api/v1/policies/dry-run",
        json={**base, "at": "2026-11-28T10:00:00Z"},
        headers=tenant.headers,
    )
    assert weekend.json()["allowed"] is False
    # Live: move the clock to 03:00 UTC on a weekday.
    now = datetime.now(UTC)
    target = (now + timedelta(days=7 - now.weekday())).replace(hour=3, minute=0)
    moved_clock.offset = target - now
    assert_problem(await client.get("/api/v1/api-keys", headers=tenant.headers), 403)


async def test_dry_run_for_members_keys_drafts_and_obligations(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    viewer = await make_member(tenant, ["viewer"])
    production = {
        "type": "Server",
        "id": "payments",
        "attrs": {"name": "payments", "environment": "production", "tags": ["pci"]},
    }
    for_viewer = await client.post(
        "/api/v1/policies/dry-run",
        json={"action": "servers:read", "resource": production, "user_id": str(viewer.user_id)},
        headers=tenant.headers,
    )
    assert for_viewer.json()["allowed"] is False
    assert for_viewer.json()["reasons"] == ["base:production"]
    for_admin = await client.post(
        "/api/v1/policies/dry-run",
        json={"action": "servers:read", "resource": production},
        headers=tenant.headers,
    )
    assert for_admin.json()["allowed"] is True
    draft = """@id("redact") @obligation("redact:url,audit:full")
permit (principal, action == Action::"servers:read", resource is Server)
when { resource.tags.contains("pci") };"""
    tried = await client.post(
        "/api/v1/policies/dry-run",
        json={"action": "servers:read", "resource": production, "policy_text": draft},
        headers=tenant.headers,
    )
    body = tried.json()
    assert body["allowed"] is True
    assert body["obligations"] == ["audit:full", "redact:url"]
    assert body["policy_version"] is None
    # An obligation the server cannot carry out makes the decision a deny, here as live.
    unknown = await client.post(
        "/api/v1/policies/dry-run",
        json={
            "action": "servers:read",
            "resource": production,
            "policy_text": draft.replace("audit:full", "throttle:low"),
        },
        headers=tenant.headers,
    )
    assert unknown.json()["allowed"] is False
    assert "throttle:low" in unknown.json()["errors"][-1]
    for_key = await client.post(
        "/api/v1/policies/dry-run",
        json={"action": "servers:read", "resource": production, "api_key_id": str(viewer.key_id)},
        headers=tenant.headers,
    )
    assert for_key.json()["allowed"] is False
    bad_resource = await client.post(
        "/api/v1/policies/dry-run",
        json={"action": "servers:read", "resource": {"type": "Server", "id": "x", "attrs": {}}},
        headers=tenant.headers,
    )
    assert bad_resource.json()["allowed"] is False
    assert bad_resource.json()["errors"]
    missing = await client.post(
        "/api/v1/policies/dry-run",
        json={
            "action": "servers:read",
            "resource": production,
            "user_id": "00000000-0000-4000-8000-000000000000",
        },
        headers=tenant.headers,
    )
    assert_problem(missing, 404, "subject-not-found")


class _RaisingPDP:
    async def decide(self, request: DecisionRequest, org_policies: str) -> Decision:
        raise RuntimeError("engine exploded")

    async def decide_many(
        self, requests: list[DecisionRequest], org_policies: str
    ) -> list[Decision]:
        raise RuntimeError("engine exploded")


class _SlowPDP(_RaisingPDP):
    async def decide_many(
        self, requests: list[DecisionRequest], org_policies: str
    ) -> list[Decision]:
        import asyncio

        await asyncio.sleep(5)
        return [Decision(allowed=True) for _ in requests]


class _ShortPDP(_RaisingPDP):
    async def decide_many(
        self, requests: list[DecisionRequest], org_policies: str
    ) -> list[Decision]:
        return []


@pytest.fixture
def swap_pdp(app: FastAPI) -> Iterator[object]:
    authorizer = app.state.authorizer
    original, timeout = authorizer.pdp, authorizer.timeout

    def swap(pdp: object, timeout_seconds: float = 1.0) -> None:
        authorizer.pdp = pdp
        authorizer.timeout = timeout_seconds

    yield swap
    authorizer.pdp, authorizer.timeout = original, timeout


@pytest.mark.parametrize("pdp", [_RaisingPDP(), _SlowPDP(), _ShortPDP()])
async def test_pdp_failure_denies_with_a_decision_id(
    client: httpx.AsyncClient, tenant: Tenant, swap_pdp: object, pdp: object
) -> None:
    swap_pdp(pdp, 0.2)  # type: ignore[operator]
    problem = assert_problem(await client.get("/api/v1/api-keys", headers=tenant.headers), 403)
    assert problem["decision_id"]


async def test_org_policies_cannot_lock_admins_out_of_policy_management(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await publish(client, tenant, "forbid (principal, action, resource);")
    assert_problem(await client.get("/api/v1/api-keys", headers=tenant.headers), 403)
    assert (await client.get("/api/v1/policies", headers=tenant.headers)).status_code == 200
    assert (await publish(client, tenant, "")).status_code == 201
    assert (await client.get("/api/v1/api-keys", headers=tenant.headers)).status_code == 200


async def test_unusable_org_time_zone_denies(
    client: httpx.AsyncClient, tenant: Tenant, runtime: object
) -> None:
    from sqlalchemy import text

    from sprintconnect.db.tenancy import bind_tenant

    async with runtime.db.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
        await bind_tenant(session, tenant.org_id)
        await session.execute(text("UPDATE organizations SET time_zone = 'Mars/Olympus'"))
    assert_problem(await client.get("/api/v1/api-keys", headers=tenant.headers), 403)
