"""The webhook endpoints' API: create, read, change, delete, rotate; validation and tenancy."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import structlog
from sqlalchemy import text

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.webhook.catalog import EVENT_TYPES
from tests.conftest import Tenant, assert_problem
from tests.webhook.conftest import Env, create_webhook

URL = "https://hooks.example.com/sprintconnect"


async def audit_details(env: Env, tenant: Tenant, prefix: str) -> list[tuple[str, Any]]:
    async with env.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        rows = await session.execute(
            text(
                "SELECT tag, details FROM audit_events WHERE org_id = :o AND tag LIKE :p "
                "ORDER BY seq"
            ),
            {"o": tenant.org_id, "p": prefix + "%"},
        )
        return [(r.tag, r.details) for r in rows]


async def test_the_secret_is_shown_once_and_never_again(env: Env, tenant: Tenant) -> None:
    with structlog.testing.capture_logs() as logs:
        created = await create_webhook(env, tenant, URL, ["server.*"], description="bot")
        secret = created["secret"]
        assert secret.startswith("whsec_")
        webhook_id = created["id"]
        answers = [
            await env.client.get("/api/v1/webhooks", headers=tenant.headers),
            await env.client.get(f"/api/v1/webhooks/{webhook_id}", headers=tenant.headers),
            await env.client.patch(
                f"/api/v1/webhooks/{webhook_id}",
                json={"description": "renamed"},
                headers=tenant.headers,
            ),
        ]
        rotated = await env.client.post(
            f"/api/v1/webhooks/{webhook_id}/rotate-secret", json={}, headers=tenant.headers
        )
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret.startswith("whsec_")
    assert new_secret != secret
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert secret not in answer.text
        assert "whsec_" not in answer.text
    shown = answers[1].json()
    assert shown["event_types"] == ["server.*"]
    assert shown["enabled"] is True
    assert shown["disabled_reason"] is None
    after = await env.client.get(f"/api/v1/webhooks/{webhook_id}", headers=tenant.headers)
    assert "whsec_" not in after.text
    assert after.json()["previous_secret_expires_at"] is not None
    # Neither logs nor audit entries hold a secret.
    assert secret not in repr(logs)
    assert new_secret not in repr(logs)
    entries = await audit_details(env, tenant, "org:webhook:")
    assert [tag for tag, _ in entries] == [
        "org:webhook:created",
        "org:webhook:updated",
        "org:webhook:secret_rotated",
    ]
    assert secret not in repr(entries)
    assert new_secret not in repr(entries)


async def test_change_and_delete_are_audited(env: Env, tenant: Tenant) -> None:
    created = await create_webhook(env, tenant, URL, ["api_key.*"])
    path = f"/api/v1/webhooks/{created['id']}"
    patched = await env.client.patch(
        path,
        json={"url": "https://other.example.com/in", "event_types": ["*"], "enabled": False},
        headers=tenant.headers,
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["url"] == "https://other.example.com/in"
    assert body["event_types"] == ["*"]
    assert body["enabled"] is False
    deleted = await env.client.delete(path, headers=tenant.headers)
    assert deleted.status_code == 204
    assert_problem(await env.client.get(path, headers=tenant.headers), 404, "webhook-not-found")
    tags = [tag for tag, _ in await audit_details(env, tenant, "org:webhook:")]
    assert tags == ["org:webhook:created", "org:webhook:updated", "org:webhook:deleted"]


async def test_event_type_catalog(env: Env, tenant: Tenant) -> None:
    response = await env.client.get("/api/v1/webhooks/event-types", headers=tenant.headers)
    assert response.status_code == 200
    body = response.json()
    types = [item["type"] for item in body["event_types"]]
    assert types == list(EVENT_TYPES)
    for wanted in (
        "server.health.unhealthy",
        "api_key.created",
        "policy.published",
        "role.assigned",
        "audit.checkpoint",
        "server.registered",
    ):
        assert wanted in types
    assert {"*", "server.*", "api_key.*", "role.*", "policy.*"} <= set(body["patterns"])


async def test_unknown_event_types_are_422_listing_the_known_ones(env: Env, tenant: Tenant) -> None:
    response = await env.client.post(
        "/api/v1/webhooks",
        json={"url": URL, "event_types": ["server.*", "server.exploded", "*.created"]},
        headers=tenant.headers,
    )
    problem = assert_problem(response, 422, "unknown-event-type")
    assert [e["loc"] for e in problem["errors"]] == [
        ["body", "event_types", 1],
        ["body", "event_types", 2],
    ]
    assert problem["known_event_types"] == list(EVENT_TYPES)


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hook",
        "http://172.16.0.1/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/hook",
        "http://100.100.100.200/hook",
        "http://198.18.0.1/hook",
        "http://192.0.0.1/hook",
        "http://224.0.0.1/hook",
        "http://240.0.0.1/hook",
        "http://255.255.255.255/hook",
        "http://0.0.0.0/hook",
        "http://[::]/hook",
        "http://[::ffff:a9fe:a9fe]/hook",
        "http://[64:ff9b::a00:1]/hook",
        "http://[64:ff9b:1::a00:1]/hook",
        "http://[2002:a00:1::1]/hook",
        "http://[2001:0::a00:1]/hook",
        "http://[fe80::1]/hook",
        "http://[fc00::1]/hook",
        "http://[fd00:ec2::254]/hook",
        "http://[fec0::1]/hook",
        "http://a@93.184.215.14/hook",
        "http://1.1.1.1 &@2.2.2.2# @3.3.3.3/",
        "http://93.184.215.14\\@127.0.0.1/",
        "http://93.184.215.14:22/hook",
        "http://93.184.215.14:5432/hook",
        "http://93.184.215.14:6379/hook",
        "http://93.184.215.14:2375/hook",
        "http://93.184.215.14:10250/hook",
        "http://93.184.215.14:25/hook",
    ],
)
async def test_private_and_tricky_urls_are_refused_at_creation(
    env: Env, tenant: Tenant, url: str
) -> None:
    response = await env.client.post(
        "/api/v1/webhooks", json={"url": url, "event_types": ["*"]}, headers=tenant.headers
    )
    assert response.status_code == 422, (url, response.text)
    problem = response.json()
    assert problem["type"] in ("/problems/egress-denied", "/problems/validation-failed")
    assert ["body", "url"] in [e["loc"] for e in problem["errors"]]


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://example.com/",
        "dict://example.com/",
        "ldap://example.com/",
        "ftp://example.com/x",
        "https://exa mple.com/\r\nX: y",
    ],
)
async def test_other_schemes_are_refused(env: Env, tenant: Tenant, url: str) -> None:
    response = await env.client.post(
        "/api/v1/webhooks", json={"url": url, "event_types": ["*"]}, headers=tenant.headers
    )
    assert response.status_code == 422, (url, response.text)


@pytest.mark.parametrize(
    "url",
    [
        "https://[2606:4700:4700::1111]/hook",
        "https://100.63.255.254/hook",
        "http://127.0.0.1:8080/hook",
    ],
)
async def test_public_addresses_and_allowed_loopback_pass(
    env: Env, tenant: Tenant, url: str
) -> None:
    created = await create_webhook(env, tenant, url, ["*"])
    assert created["url"] == url


async def test_the_egress_reason_is_in_the_answer(env: Env, tenant: Tenant) -> None:
    response = await env.client.post(
        "/api/v1/webhooks",
        json={"url": "http://169.254.169.254/", "event_types": ["*"]},
        headers=tenant.headers,
    )
    problem = assert_problem(response, 422, "egress-denied")
    assert problem["reason"] == "metadata_address"


async def test_the_endpoint_quota_is_a_409(env: Env, tenant: Tenant) -> None:
    limit = env.runtime.settings.webhook_max_endpoints
    for i in range(limit):
        await create_webhook(env, tenant, f"{URL}/{i}", ["*"])
    response = await env.client.post(
        "/api/v1/webhooks", json={"url": URL, "event_types": ["*"]}, headers=tenant.headers
    )
    problem = assert_problem(response, 409, "webhook-limit-reached")
    assert problem["limit"] == limit
    listed = await env.client.get("/api/v1/webhooks?limit=2", headers=tenant.headers)
    page = listed.json()
    assert len(page["items"]) == 2
    assert page["next_cursor"]
    rest = await env.client.get(
        f"/api/v1/webhooks?limit=50&cursor={page['next_cursor']}", headers=tenant.headers
    )
    assert len(rest.json()["items"]) == limit - 2


@pytest.mark.parametrize(
    "body",
    [
        {"url": URL},
        {"event_types": ["*"]},
        {"url": URL, "event_types": []},
        {"url": URL, "event_types": "server.*"},
        {"url": URL, "event_types": ["*"], "secret": "whsec_mine"},
        {"url": URL, "event_types": ["*"], "description": "x" * 501},
        {"url": URL, "event_types": ["*"], "enabled": "maybe"},
        {"url": "x" * 3000, "event_types": ["*"]},
        {"url": URL, "event_types": ["*"] * 51},
        {"url": URL, "event_types": [None]},
    ],
)
async def test_malformed_bodies_are_422(env: Env, tenant: Tenant, body: dict[str, Any]) -> None:
    response = await env.client.post("/api/v1/webhooks", json=body, headers=tenant.headers)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("overlap", [-1, 7 * 24 * 3600 + 1, "a day", 1.5])
async def test_bad_rotation_overlaps_are_422(env: Env, tenant: Tenant, overlap: object) -> None:
    created = await create_webhook(env, tenant, URL, ["*"])
    response = await env.client.post(
        f"/api/v1/webhooks/{created['id']}/rotate-secret",
        json={"overlap_seconds": overlap},
        headers=tenant.headers,
    )
    assert response.status_code == 422, response.text


async def test_bad_ids_and_filters_are_422(env: Env, tenant: Tenant) -> None:
    created = await create_webhook(env, tenant, URL, ["*"])
    base = f"/api/v1/webhooks/{created['id']}"
    for path in (
        "/api/v1/webhooks/not-a-uuid",
        f"{base}/deliveries/not-a-uuid",
        f"{base}/deliveries?status=lost",
        f"{base}/deliveries?cursor=garbage",
        f"{base}/deliveries?limit=0",
        f"{base}/deliveries?event_type=" + "x" * 101,
    ):
        response = await env.client.get(path, headers=tenant.headers)
        assert response.status_code == 422, (path, response.text)


async def test_another_organizations_webhooks_are_404(env: Env, tenant: Tenant) -> None:
    from tests.jobs.conftest import new_tenant

    other = await new_tenant(env.runtime)
    created = await create_webhook(env, tenant, URL, ["*"])
    base = f"/api/v1/webhooks/{created['id']}"
    delivery = f"{base}/deliveries/{uuid.uuid4()}"
    calls = [
        ("GET", base, None),
        ("PATCH", base, {"description": "mine now"}),
        ("DELETE", base, None),
        ("POST", f"{base}/rotate-secret", {}),
        ("POST", f"{base}/test", None),
        ("GET", f"{base}/deliveries", None),
        ("GET", delivery, None),
        ("POST", f"{delivery}/redeliver", None),
        ("GET", f"{base}/stats", None),
    ]
    for method, path, body in calls:
        response = await env.client.request(method, path, json=body, headers=other.headers)
        assert_problem(response, 404, "webhook-not-found")
    listed = await env.client.get("/api/v1/webhooks", headers=other.headers)
    assert listed.json()["items"] == []
    still = await env.client.get(base, headers=tenant.headers)
    assert still.json()["description"] == ""


async def test_reading_needs_webhooks_read_and_changing_webhooks_write(
    env: Env, tenant: Tenant
) -> None:
    from tests.notification.conftest import add_member

    viewer = await add_member(env, tenant, ["viewer"])  # type: ignore[arg-type]
    headers = {"Authorization": f"Bearer {viewer.key}"}
    response = await env.client.get("/api/v1/webhooks", headers=headers)
    assert response.status_code == 403
    response = await env.client.post(
        "/api/v1/webhooks", json={"url": URL, "event_types": ["*"]}, headers=headers
    )
    assert response.status_code == 403
    engineer = await add_member(env, tenant, ["engineer"])  # type: ignore[arg-type]
    created = await env.client.post(
        "/api/v1/webhooks",
        json={"url": URL, "event_types": ["*"]},
        headers={"Authorization": f"Bearer {engineer.key}"},
    )
    assert created.status_code == 201, created.text
