"""From a health event to a received notice: real SMTP, a real HTTP receiver, cool-downs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
import structlog
from pydantic import SecretStr
from sqlalchemy import text

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.notification.delivery import RetryDelivery, deliver, remind
from tests.conftest import Tenant
from tests.fixtures.receiver import Receiver
from tests.fixtures.smtp import free_port
from tests.notification.conftest import Env, add_member, add_server, deliveries, fire

PREFS = "/api/v1/me/notification-preferences"
POLICY = "/api/v1/health/escalation-policy"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


async def deliver_all(env: Env, tenant: Tenant, ids: list) -> list[str]:
    return [await deliver(env.services, delivery_id=i, org_id=tenant.org_id) for i in ids]


async def test_unhealthy_server_emails_the_admin(env: Env, tenant: Tenant) -> None:
    server = await add_server(env, tenant, name="weather", environment="production")
    outcome = await fire(env, tenant, server, "unhealthy", "healthy", 1)
    assert len(outcome.deliveries) == 1
    assert await deliver_all(env, tenant, outcome.deliveries) == ["sent"]
    [message] = env.mailbox.messages
    assert server.name in message["Subject"]
    assert "unhealthy" in message["Subject"]
    assert "production" in message["Subject"]
    assert message["From"] == "alerts@sprintconnect.example.com"
    assert "connection_refused: Connection refused" in message.get_payload()
    [row] = await deliveries(env, tenant)
    assert row["status"] == "sent"
    assert row["attempts"] == 1
    assert row["channel"] == "email"
    assert env.mailbox.recipients == [[row["address"]]]
    # The job running again (at least once) sends nothing more.
    assert await deliver_all(env, tenant, outcome.deliveries) == ["skipped"]
    # So does the event being dispatched again.
    assert (await fire(env, tenant, server, "unhealthy", "healthy", 1)).deliveries == []
    assert len(env.mailbox.messages) == 1


async def test_slack_and_signed_webhook_reach_the_receiver(
    env: Env, tenant: Tenant, receiver: Receiver
) -> None:
    put = await env.client.put(
        PREFS,
        json={
            "email": {"enabled": False},
            "slack": {"enabled": True, "webhook_url": receiver.url("/services/T/B/slack-secret")},
            "webhook": {"enabled": True, "url": receiver.url("/generic"), "secret": SECRET},
        },
        headers=tenant.headers,
    )
    assert put.status_code == 200, put.text
    server = await add_server(env, tenant)
    outcome = await fire(env, tenant, server, "unhealthy", "healthy", 1)
    with structlog.testing.capture_logs() as logs:
        assert await deliver_all(env, tenant, outcome.deliveries) == ["sent", "sent"]
    by_path = {r.path: r for r in receiver.requests}
    slack = json.loads(by_path["/services/T/B/slack-secret"].body)
    assert server.name in slack["text"]
    assert "unhealthy" in slack["text"]
    assert slack["blocks"][0]["type"] == "header"
    generic = by_path["/generic"]
    event = json.loads(generic.body)
    assert event["type"] == "server.health.unhealthy"
    assert event["data"]["server_id"] == str(server.id)
    # The signature verifies, as a receiver following Standard Webhooks checks it.
    msg_id, ts = generic.headers["webhook-id"], generic.headers["webhook-timestamp"]
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    expected = hmac.new(key, f"{msg_id}.{ts}.".encode() + generic.body, hashlib.sha256)
    assert (
        generic.headers["webhook-signature"] == "v1," + base64.b64encode(expected.digest()).decode()
    )
    assert "slack-secret" not in repr(logs)
    assert SECRET not in repr(logs)
    listed = await env.client.get("/api/v1/notifications/deliveries", headers=tenant.headers)
    assert {d["channel"] for d in listed.json()["items"]} == {"slack", "webhook"}
    assert "slack-secret" not in listed.text


async def test_a_refusing_receiver_fails_without_leaking_the_url(
    env: Env, tenant: Tenant, receiver: Receiver
) -> None:
    receiver.status = 404
    await env.client.put(
        PREFS,
        json={
            "email": {"enabled": False},
            "slack": {"enabled": True, "webhook_url": receiver.url("/services/T/B/slack-secret")},
        },
        headers=tenant.headers,
    )
    server = await add_server(env, tenant)
    outcome = await fire(env, tenant, server, "unhealthy", "healthy", 1)
    # A 404 will not get better: failed at once, not retried.
    assert await deliver_all(env, tenant, outcome.deliveries) == ["failed"]
    [row] = await deliveries(env, tenant)
    assert row["last_error"] == "The receiver answered HTTP 404."


async def test_smtp_down_is_retried_then_failed_and_visible(env: Env, tenant: Tenant) -> None:
    server = await add_server(env, tenant)
    outcome = await fire(env, tenant, server, "unhealthy", "healthy", 1)
    [delivery_id] = outcome.deliveries
    down = env.with_settings(smtp_port=free_port(), smtp_password=SecretStr("smtp-password-value"))
    for attempt in (1, 2):
        with pytest.raises(RetryDelivery):
            await deliver(down, delivery_id=delivery_id, org_id=tenant.org_id)
        [row] = await deliveries(env, tenant)
        assert row["status"] == "pending"
        assert row["attempts"] == attempt
        assert row["last_error"]
    # The third attempt is the last (SPRINTCONNECT_NOTIFICATION_MAX_ATTEMPTS=3 here).
    assert await deliver(down, delivery_id=delivery_id, org_id=tenant.org_id) == "failed"
    listed = await env.client.get(
        "/api/v1/notifications/deliveries?status=failed", headers=tenant.headers
    )
    [item] = listed.json()["items"]
    assert item["id"] == str(delivery_id)
    assert item["attempts"] == 3
    assert item["last_error"]
    assert "smtp-password-value" not in listed.text
    assert env.mailbox.messages == []
    pending = await env.client.get(
        "/api/v1/notifications/deliveries?status=pending", headers=tenant.headers
    )
    assert pending.json()["items"] == []


async def test_flapping_server_sends_one_failure_and_one_recovery(env: Env, tenant: Tenant) -> None:
    server = await add_server(env, tenant)
    sequence = [
        ("unhealthy", "healthy"),
        ("healthy", "unhealthy"),
        ("unhealthy", "healthy"),
        ("healthy", "unhealthy"),
        ("unhealthy", "healthy"),
        ("healthy", "unhealthy"),
    ]
    sent: list = []
    for n, (status, previous) in enumerate(sequence, start=1):
        env.clock.offset += timedelta(minutes=1)
        outcome = await fire(env, tenant, server, status, previous, n)
        sent += outcome.deliveries
    await deliver_all(env, tenant, sent)
    topics = [r["topic"] for r in await deliveries(env, tenant)]
    assert topics == ["server.health.unhealthy", "server.health.recovered"]
    # After the cool-down (30 minutes by default) a new failure is news again.
    env.clock.offset += timedelta(minutes=31)
    outcome = await fire(env, tenant, server, "unhealthy", "healthy", 99)
    assert len(outcome.deliveries) == 1
    subjects = [m["Subject"] for m in env.mailbox.messages]
    assert len(subjects) == 2
    assert "recovered" in subjects[1]


async def test_recovery_goes_only_to_those_told_of_the_failure(env: Env, tenant: Tenant) -> None:
    engineer = await add_member(env, tenant, ["engineer"])
    policy = {
        "unhealthy": {"roles": ["admin"]},
        "degraded": {"roles": ["admin", "engineer"]},
        "repeat_minutes": 0,
        "cooldown_minutes": 0,
    }
    assert (await env.client.put(POLICY, json=policy, headers=tenant.headers)).status_code == 200
    server = await add_server(env, tenant)
    told = await fire(env, tenant, server, "unhealthy", "healthy", 1)
    recovered = await fire(env, tenant, server, "healthy", "unhealthy", 2)
    rows = await deliveries(env, tenant)
    assert {r["user_id"] for r in rows} == {tenant.user_id}
    assert len(told.deliveries) == 1
    assert len(recovered.deliveries) == 1
    # Degraded reaches the engineer too, and then so does the recovery.
    await fire(env, tenant, server, "unhealthy", "healthy", 3)
    await fire(env, tenant, server, "degraded", "unhealthy", 4)
    await fire(env, tenant, server, "healthy", "degraded", 5)
    rows = await deliveries(env, tenant)
    recovered_to = {r["user_id"] for r in rows if r["topic"] == "server.health.recovered"}
    assert recovered_to == {tenant.user_id, engineer.user_id}


async def test_members_without_access_and_opted_out_events_get_nothing(
    env: Env, tenant: Tenant
) -> None:
    viewer = await add_member(env, tenant, ["viewer"])  # no servers:production
    policy = {
        "unhealthy": {"user_ids": [str(viewer.user_id)], "roles": ["admin"]},
        "degraded": {},
        "repeat_minutes": 0,
        "cooldown_minutes": 0,
    }
    assert (await env.client.put(POLICY, json=policy, headers=tenant.headers)).status_code == 200
    await env.client.put(
        PREFS, json={"events": ["server.health.recovered"]}, headers=tenant.headers
    )
    production = await add_server(env, tenant, environment="production")
    assert (await fire(env, tenant, production, "unhealthy", "healthy", 1)).deliveries == []
    staging = await add_server(env, tenant, environment="staging")
    outcome = await fire(env, tenant, staging, "unhealthy", "healthy", 2)
    rows = await deliveries(env, tenant)
    assert len(outcome.deliveries) == 1
    assert rows[0]["user_id"] == viewer.user_id


async def test_tenants_see_only_their_own_deliveries(env: Env, tenant: Tenant) -> None:
    from tests.jobs.conftest import new_tenant

    other = await new_tenant(env.runtime)
    server = await add_server(env, tenant)
    outcome = await fire(env, tenant, server, "unhealthy", "healthy", 1)
    assert outcome.deliveries
    listed = await env.client.get("/api/v1/notifications/deliveries", headers=other.headers)
    assert listed.json()["items"] == []
    # Another organization's job arguments cannot reach this delivery.
    assert (
        await deliver(env.services, delivery_id=outcome.deliveries[0], org_id=other.org_id)
        == "skipped"
    )
    assert env.mailbox.messages == []


async def test_degraded_servers_are_reminded_after_repeat_minutes(env: Env, tenant: Tenant) -> None:
    policy = {
        "unhealthy": {},
        "degraded": {"roles": ["admin"]},
        "repeat_minutes": 60,
        "cooldown_minutes": 30,
    }
    assert (await env.client.put(POLICY, json=policy, headers=tenant.headers)).status_code == 200
    server = await add_server(env, tenant)
    async with env.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        await session.execute(
            text("UPDATE server_health SET status = 'degraded' WHERE server_id = :s"),
            {"s": server.id},
        )
    first = await fire(env, tenant, server, "degraded", "unhealthy", 1)
    assert len(first.deliveries) == 1
    assert await remind(env.services) == 0  # not yet an hour
    env.clock.offset += timedelta(minutes=61)
    assert await remind(env.services) == 1
    assert await remind(env.services) == 0  # once per interval
    rows = await deliveries(env, tenant)
    await deliver_all(env, tenant, [r["id"] for r in rows])
    assert "Still:" in env.mailbox.messages[-1]["Subject"]
