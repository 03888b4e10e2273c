"""Deliveries end to end against a loopback receiver: signatures, order, retries, 410,
disabling, rotation, filters, egress at delivery time, and what is kept of each attempt."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
import structlog
from sqlalchemy import text
from standardwebhooks.webhooks import Webhook

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.jobs.outbox import emit
from sprintconnect.mcp_server.connector import Network
from sprintconnect.webhook.delivery import SCHEDULE
from tests.conftest import Tenant
from tests.egress.support import FakeResolver, LoopbackOnly1
from tests.fixtures.receiver import Receiver
from tests.webhook.conftest import Env, create_webhook, deliveries, fan, later, send
from tests.webhook.support import event, signed_by


async def health_event(env: Env, tenant: Tenant, n: int, status: str = "unhealthy") -> None:
    """A health transition through the outbox, as the health checker writes it."""
    server_id = str(uuid.uuid4())
    async with env.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        await emit(
            session,
            org_id=tenant.org_id,
            topic=f"server.health.{status}",
            payload={
                "server_id": server_id,
                "server_name": f"server-{n}",
                "status": status,
                "at": env.clock.now().isoformat(),
                "transition_id": n,
            },
            key=f"health:{server_id}:{n}",
        )


async def new_key(env: Env, tenant: Tenant, name: str) -> str:
    response = await env.client.post(
        "/api/v1/api-keys", json={"name": name, "scopes": ["read"]}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    key: str = response.json()["key"]
    return key


async def test_an_audited_change_reaches_the_receiver_signed(
    env: Env, tenant: Tenant, receiver: Receiver
) -> None:
    hook = await create_webhook(env, tenant, receiver.url(), ["api_key.*"])
    with structlog.testing.capture_logs() as logs:
        plaintext = await new_key(env, tenant, "ci")  # delivery written with the change
        assert await send(env, tenant, hook["id"]) == 1
    [request] = receiver.requests
    # The library verifies it as a receiver would (real time: the clock was not moved).
    body = Webhook(hook["secret"]).verify(request.body, request.headers)
    assert body["type"] == "api_key.created"
    assert set(body) == {"type", "timestamp", "data"}
    assert body["data"]["actor"]["type"] == "api_key"
    assert body["data"]["target"]["type"] == "api_key"
    assert request.headers["webhook-id"].startswith("msg_")
    assert request.headers["content-type"] == "application/json"
    # Neither the new key nor the signing secret went anywhere they should not.
    assert plaintext not in request.body.decode()
    assert hook["secret"] not in repr(logs)
    assert plaintext not in repr(logs)
    [row] = await deliveries(env, tenant, hook["id"])
    assert row["status"] == "delivered"
    assert row["attempts"] == 1


async def test_no_endpoint_no_delivery(env: Env, tenant: Tenant, receiver: Receiver) -> None:
    hook = await create_webhook(env, tenant, receiver.url(), ["role.*"])
    await new_key(env, tenant, "quiet")
    await fan(env, tenant)
    assert await deliveries(env, tenant, hook["id"]) == []
    async with env.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        count = await session.scalar(
            text("SELECT count(*) FROM webhook_deliveries WHERE org_id = :o"),
            {"o": tenant.org_id},
        )
    assert count == 0


async def test_a_receiver_down_for_a_while_gets_every_event_in_order_once_back(
    env: Env, tenant: Tenant, receiver: Receiver
) -> None:
    hook = await create_webhook(env, tenant, receiver.url(), ["server.health.*"])
    receiver.status = 503
    for n in range(4):
        await health_event(env, tenant, n)
    assert await fan(env, tenant) == 4
    # Down: only the oldest delivery is tried, again and again on its schedule.
    for _ in range(5):
        assert await send(env, tenant, hook["id"]) == 0
        await later(env)
    assert len(receiver.requests) == 5
    assert {r.headers["webhook-id"] for r in receiver.requests} == {
        receiver.requests[0].headers["webhook-id"]
    }
    assert {event(r)["data"]["transition_id"] for r in receiver.requests} == {0}
    rows = await deliveries(env, tenant, hook["id"])
    assert [r["attempts"] for r in rows] == [5, 0, 0, 0]
    assert [r["status"] for r in rows] == ["pending"] * 4
    # Back: everything, in order, the first with the webhook-id of its failed tries.
    receiver.status = 200
    first_id = receiver.requests[0].headers["webhook-id"]
    receiver.requests.clear()
    assert await send(env, tenant, hook["id"]) == 4
    assert [event(r)["data"]["transition_id"] for r in receiver.requests] == [0, 1, 2, 3]
    assert receiver.requests[0].headers["webhook-id"] == first_id
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 4
    assert all(signed_by(hook["secret"], r) for r in receiver.requests)
    rows = await deliveries(env, tenant, hook["id"])
    assert [r["status"] for r in rows] == ["delivered"] * 4
    # Nothing is sent twice.
    receiver.requests.clear()
    await later(env)
    assert await send(env, tenant, hook["id"]) == 0
    assert receiver.requests == []


async def test_retries_follow_the_schedule_then_fail_for_good(
    env: Env, tenant: Tenant, receiver: Receiver
) -> None:
    hook = await create_webhook(env, tenant, receiver.url(), ["server.*"])
    receiver.status = 500
    await health_event(env, tenant, 1)
    await health_event(env, tenant, 2)
    await fan(env, tenant)
    await send(env, tenant, hook["id"])
    [first, _] = await deliveries(env, tenant, hook["id"])
    wait = first["next_attempt_at"] - env.clock.now()
    assert timedelta(seconds=SCHEDULE[1] * 0.85) <= wait <= timedelta(seconds=SCHEDULE[1] * 1.1)
    # Not due yet: nothing is sent, and the later delivery waits behind it.
    assert await send(env, tenant, hook["id"]) == 0
    assert len(receiver.requests) == 1
    for i, wait_seconds in enumerate(SCHEDULE[1:], start=2):
        # Just short of the wait (less the jitter): not yet; past it: the next try.
        env.clock.offset += timedelta(seconds=wait_seconds * 0.85)
        tried = len(receiver.requests)
        await send(env, tenant, hook["id"])
        assert len(receiver.requests) == tried
        env.clock.offset += timedelta(seconds=wait_seconds * 0.3 + 1)
        await send(env, tenant, hook["id"])
        # After the last try the head is failed, and the one behind it goes at once.
        assert len(receiver.requests) == tried + (1 if i < len(SCHEDULE) else 2)
    first, second = await deliveries(env, tenant, hook["id"])
    assert first["status"] == "failed"
    assert first["attempts"] == len(SCHEDULE)
    assert second["status"] == "pending"
    assert second["attempts"] == 1
    ids = [event(r)["data"]["transition_id"] for r in receiver.requests]
    assert ids == [1] * len(SCHEDULE) + [2]


async def test_410_gone_disables_the_endpoint_at_once(
    env: Env, tenant: Tenant, receiver: Receiver
) -> None:
    hook = await create_webhook(env, tenant, receiver.url(), ["server.*"])
    receiver.status = 410
    await health_event(env, tenant, 1)
    await health_event(env, tenant, 2)
    await fan(env, tenant)
    assert await send(env, tenant, hook["id"]) == 0
    assert len(receiver.requests) == 1
    shown = (await env.client.get(f"/api/v1/webhooks/{hook['id']}", headers=tenant.headers)).json()
    assert shown["enabled"] is False
    assert shown["disabled_reason"] == "gone"
    rows = await deliveries(env, tenant, hook["id"])
    assert [r["status"] for r in rows] == ["failed", "pending"]
    await later(env)
    assert await send(env, tenant, hook["id"]) == 0
    assert len(receiver.requests) == 1
    async with env.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        tags = (
            await session.execute(
                text(
                    "SELECT tag, actor_type FROM audit_events WHERE org_id = :o AND tag = "
                    "'org:webhook:disabled'"
                ),
                {"o": tenant.org_id},
            )
        ).all()
        topics = (
            await session.scalars(
                text(
                    "SELECT topic FROM outbox_events WHERE org_id = :o AND topic = "
                    "'webhook.disabled'"
                ),
                {"o": tenant.org_id},
            )
        ).all()
    assert [(t.tag, t.actor_type) for t in tags] == [("org:webhook:disabled", "system")]
    assert topics == ["webhook.disabled"]
    # Enabled again: the delivery that waited goes out.
    receiver.status = 200
    resumed = await env.client.patch(
        f"/api/v1/webhooks/{hook['id']}", json={"enabled": True}, headers=tenant.headers
    )
    assert resumed.json()["disabled_reason"] is None
    assert await send(env, tenant, hook["id"]) == 1
    assert event(receiver.requests[-1])["data"]["transition_id"] == 2


async def test_an_endpoint_failing_for_days_is_disabled(
    env: Env, tenant: Tenant, receiver: Receiver
) -> None:
    hook = await create_webhook(env, tenant, receiver.url(), ["server.*"])
    receiver.status = 502
    await health_event(env, tenant, 1)
    await fan(env, tenant)
    days = env.runtime.settings.webhook_disable_after_days
    for _ in range(days + 1):
        await send(env, tenant, hook["id"])
        await later(env)
    shown = (await env.client.get(f"/api/v1/webhooks/{hook['id']}", headers=tenant.headers)).json()
    assert shown["enabled"] is False
    assert shown["disabled_reason"] == "failing"
    tried = len(receiver.requests)
    await later(env)
    await send(env, tenant, hook["id"])
    assert len(receiver.requests) == tried


async def test_rotation_sends_both_signatures_during_the_overlap(
    env: Env, tenant: Tenant, receiver: Receiver
) -> None:
    hook = await create_webhook(env, tenant, receiver.url(), ["server.*"])
    old = hook["secret"]
    rotated = await env.client.post(
        f"/api/v1/webhooks/{hook['id']}/rotate-secret",
        json={"overlap_seconds": 3600},
        headers=tenant.headers,
    )
    new = rotated.json()["secret"]
    await health_event(env, tenant, 1)
    await fan(env, tenant)
    await send(env, tenant, hook["id"])
    [request] = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(request.body, request.headers)
    Webhook(new).verify(request.body, request.headers)
    # After the overlap, only the new secret signs.
    env.clock.offset += timedelta(hours=2)
    await health_event(env, tenant, 2)
    await fan(env, tenant)
    await send(env, tenant, hook["id"])
    last = receiver.requests[-1]
    assert len(last.headers["webhook-signature"].split(" ")) == 1
    assert signed_by(new, last)
    assert not signed_by(old, last)


async def test_rotation_without_overlap_stops_the_old_secret_now(
    env: Env, tenant: Tenant, receiver: Receiver
) -> None:
    hook = await create_webhook(env, tenant, receiver.url(), ["server.*"])
    rotated = await env.client.post(
        f"/api/v1/webhooks/{hook['id']}/rotate-secret",
        json={"overlap_seconds": 0},
        headers=tenant.headers,
    )
    await health_event(env, tenant, 1)
    await fan(env, tenant)
    await send(env, tenant, hook["id"])
    [request] = receiver.requests
    assert signed_by(rotated.json()["secret"], request)
    assert not signed_by(hook["secret"], request)


async def test_event_filters_select_endpoints(env: Env, tenant: Tenant, receiver: Receiver) -> None:
    servers = await create_webhook(env, tenant, receiver.url("/servers"), ["server.*"])
    keys = await create_webhook(env, tenant, receiver.url("/keys"), ["api_key.created"])
    every = await create_webhook(env, tenant, receiver.url("/all"), ["*"])
    degraded = await create_webhook(
        env, tenant, receiver.url("/degraded"), ["server.health.degraded"]
    )
    await health_event(env, tenant, 1, "unhealthy")
    await new_key(env, tenant, "filter")
    await fan(env, tenant)
    for hook in (servers, keys, every, degraded):
        await send(env, tenant, hook["id"])
    got: dict[str, list[str]] = {}
    for request in receiver.requests:
        got.setdefault(request.path, []).append(event(request)["type"])
    assert got["/servers"] == ["server.health.unhealthy"]
    assert got["/keys"] == ["api_key.created"]
    # ``*`` also hears of the other endpoints created after it (``webhook.created``).
    assert sorted(got["/all"]) == [
        "api_key.created",
        "server.health.unhealthy",
        "webhook.created",  # of ``degraded``; never of itself
    ]
    assert "/degraded" not in got


async def test_egress_is_checked_again_at_delivery_when_dns_changes(
    env: Env, tenant: Tenant, receiver: Receiver
) -> None:
    resolver = FakeResolver({"hooks.test": [["127.0.0.1"], ["10.0.0.1"]]})
    backend = LoopbackOnly1()
    services = env.with_network(Network(resolver=resolver, httpx_backend=backend))
    hook = await create_webhook(
        env, tenant, f"http://hooks.test:{receiver.port}/hook", ["server.*"]
    )
    await health_event(env, tenant, 1)
    await fan(env, tenant)
    assert await send(env, tenant, hook["id"], services) == 1
    await health_event(env, tenant, 2)
    await fan(env, tenant)
    assert await send(env, tenant, hook["id"], services) == 0
    assert len(receiver.requests) == 1
    assert all(host == "127.0.0.1" for host, _ in backend.attempts)
    rows = await deliveries(env, tenant, hook["id"])
    detail = await env.client.get(
        f"/api/v1/webhooks/{hook['id']}/deliveries/{rows[1]['id']}", headers=tenant.headers
    )
    [attempt] = detail.json()["attempt_log"]
    assert attempt["succeeded"] is False
    assert attempt["error_class"] == "egress_denied"
    assert "address_denied" in attempt["error_message"]


async def test_changes_to_an_endpoint_apply_to_the_next_attempt(
    env: Env, tenant: Tenant, receiver: Receiver
) -> None:
    hook = await create_webhook(env, tenant, receiver.url("/old"), ["server.*"])
    receiver.status = 503
    await health_event(env, tenant, 1)
    await fan(env, tenant)
    await send(env, tenant, hook["id"])
    await env.client.patch(
        f"/api/v1/webhooks/{hook['id']}",
        json={"url": receiver.url("/new")},
        headers=tenant.headers,
    )
    receiver.status = 200
    await later(env)
    await send(env, tenant, hook["id"])
    assert [r.path for r in receiver.requests] == ["/old", "/new"]
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]


async def test_deliveries_attempts_redelivery_and_stats(
    env: Env, tenant: Tenant, receiver: Receiver
) -> None:
    hook = await create_webhook(env, tenant, receiver.url(), ["server.*"])
    base = f"/api/v1/webhooks/{hook['id']}"
    receiver.status = 410
    await health_event(env, tenant, 1, "degraded")
    await fan(env, tenant)
    await send(env, tenant, hook["id"])
    listed = (await env.client.get(f"{base}/deliveries", headers=tenant.headers)).json()
    [failed] = listed["items"]
    assert failed["status"] == "failed"
    assert failed["last_status_code"] == 410
    assert failed["last_error_class"] == "gone"
    detail = (
        await env.client.get(f"{base}/deliveries/{failed['id']}", headers=tenant.headers)
    ).json()
    assert detail["payload"]["transition_id"] == 1
    [attempt] = detail["attempt_log"]
    assert attempt["status_code"] == 410
    assert attempt["response_snippet"] == "ok"
    assert attempt["latency_ms"] >= 0
    # Filters.
    for query, count in (
        ("status=failed", 1),
        ("status=pending", 0),
        ("event_type=server.health.degraded", 1),
        ("event_type=server.health.unhealthy", 0),
    ):
        page = (await env.client.get(f"{base}/deliveries?{query}", headers=tenant.headers)).json()
        assert len(page["items"]) == count, query
    # Enabled again and redelivered, with the same webhook-id.
    receiver.status = 200
    await env.client.patch(base, json={"enabled": True}, headers=tenant.headers)
    again = await env.client.post(
        f"{base}/deliveries/{failed['id']}/redeliver", headers=tenant.headers
    )
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "pending"
    async with env.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        redelivered = (
            await session.execute(
                text(
                    "SELECT details FROM audit_events WHERE org_id = :o "
                    "AND tag = 'org:webhook:redelivered'"
                ),
                {"o": tenant.org_id},
            )
        ).scalar_one()
    assert redelivered["delivery_id"] == failed["id"]
    assert redelivered["previous_status"] == "failed"
    pending = await env.client.post(
        f"{base}/deliveries/{failed['id']}/redeliver", headers=tenant.headers
    )
    assert pending.status_code == 409
    assert pending.json()["type"] == "/problems/webhook-delivery-pending"
    assert await send(env, tenant, hook["id"]) == 1
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]
    assert receiver.requests[1].headers["webhook-id"] == failed["message_id"]
    stats = (await env.client.get(f"{base}/stats", headers=tenant.headers)).json()
    assert stats["attempts_24h"] == 2
    assert stats["success_rate_24h"] == 0.5
    assert stats["attempts_7d"] == 2
    assert stats["success_rate_7d"] == 0.5
    assert stats["latency_ms_p50_24h"] is not None
    assert 0 <= stats["latency_ms_p50_24h"] <= stats["latency_ms_p95_24h"]
    assert stats["errors_by_class_7d"] == {"gone": 1}
    assert stats["last_delivery"]["succeeded"] is True
    assert stats["last_delivery"]["status_code"] == 200
    assert stats["pending"] == 0
    missing = await env.client.get(f"{base}/deliveries/{uuid.uuid4()}", headers=tenant.headers)
    assert missing.status_code == 404
    assert missing.json()["type"] == "/problems/webhook-delivery-not-found"


async def test_stats_of_a_quiet_endpoint(env: Env, tenant: Tenant) -> None:
    hook = await create_webhook(env, tenant, "https://hooks.example.com/x", ["*"])
    stats = (
        await env.client.get(f"/api/v1/webhooks/{hook['id']}/stats", headers=tenant.headers)
    ).json()
    assert stats["success_rate_24h"] is None
    assert stats["latency_ms_p50_24h"] is None
    assert stats["latency_ms_p95_24h"] is None
    assert stats["last_delivery"] is None
    assert stats["pending"] == 0
    assert stats["errors_by_class_7d"] == {}


async def test_the_test_event_answers_what_the_receiver_said(
    env: Env, tenant: Tenant, receiver: Receiver
) -> None:
    hook = await create_webhook(env, tenant, receiver.url(), ["server.*"])
    path = f"/api/v1/webhooks/{hook['id']}/test"
    ok = await env.client.post(path, headers=tenant.headers)
    assert ok.status_code == 200, ok.text
    body: dict[str, Any] = ok.json()
    assert body["succeeded"] is True
    assert body["status_code"] == 200
    assert body["response_snippet"] == "ok"
    assert body["latency_ms"] >= 0
    [request] = receiver.requests
    assert Webhook(hook["secret"]).verify(request.body, request.headers)["type"] == "webhook.test"
    receiver.status = 500
    failed = (await env.client.post(path, headers=tenant.headers)).json()
    assert failed["succeeded"] is False
    assert failed["status_code"] == 500
    assert failed["error_class"] == "http_status"
    # Nothing listens: a classified failure, not an error answer.
    await env.client.patch(
        f"/api/v1/webhooks/{hook['id']}",
        json={"url": "http://127.0.0.1:9/hook"},
        headers=tenant.headers,
    )
    refused = await env.client.post(path, headers=tenant.headers)
    assert refused.status_code == 200
    assert refused.json()["error_class"] == "connection"
    # Tests are not deliveries.
    listed = await env.client.get(
        f"/api/v1/webhooks/{hook['id']}/deliveries", headers=tenant.headers
    )
    assert listed.json()["items"] == []


async def test_checkpoints_and_capability_changes_come_from_the_outbox(
    env: Env, tenant: Tenant, receiver: Receiver
) -> None:
    hook = await create_webhook(
        env, tenant, receiver.url(), ["audit.checkpoint", "server.capabilities.changed"]
    )
    async with env.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        await emit(
            session,
            org_id=tenant.org_id,
            topic="audit.checkpoint",
            payload={"tree_size": 42, "root_hash": "abc=", "issued_at": "2026-11-28T10:00:00Z"},
            key="audit.checkpoint:42",
        )
        await emit(
            session,
            org_id=tenant.org_id,
            topic="server.capabilities.changed",
            payload={"server_id": str(uuid.uuid4()), "version": 2},
            key=f"capabilities:{uuid.uuid4()}",
        )
    assert await fan(env, tenant) == 2
    assert await send(env, tenant, hook["id"]) == 2
    first, second = (event(r) for r in receiver.requests)
    assert first["type"] == "audit.checkpoint"
    assert first["data"]["tree_size"] == 42
    assert first["timestamp"].startswith("2026-11-28T10:00:00")
    assert second["type"] == "server.capabilities.changed"
    assert second["data"]["version"] == 2


async def test_a_long_backlog_continues_in_a_new_job_in_order(
    env: Env, tenant: Tenant, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sprintconnect.webhook import delivery

    monkeypatch.setattr(delivery, "BATCH", 2)
    hook = await create_webhook(env, tenant, receiver.url(), ["server.*"])
    for n in range(5):
        await health_event(env, tenant, n)
    await fan(env, tenant)
    assert await send(env, tenant, hook["id"]) == 2
    assert await send(env, tenant, hook["id"]) == 2
    assert await send(env, tenant, hook["id"]) == 1
    assert [event(r)["data"]["transition_id"] for r in receiver.requests] == [0, 1, 2, 3, 4]
    rows = await deliveries(env, tenant, hook["id"])
    assert [r["attempts"] for r in rows] == [1] * 5


async def test_two_senders_at_once_send_each_event_once_in_order(
    env: Env, tenant: Tenant, receiver: Receiver
) -> None:
    hook = await create_webhook(env, tenant, receiver.url(), ["server.*"])
    for n in range(12):
        await health_event(env, tenant, n)
    await fan(env, tenant)
    sent = await asyncio.gather(*(send(env, tenant, hook["id"]) for _ in range(3)))
    assert sum(sent) == 12
    assert [event(r)["data"]["transition_id"] for r in receiver.requests] == list(range(12))
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 12
