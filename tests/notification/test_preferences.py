"""``/api/v1/me/notification-preferences``: defaults, channels, secrets write-only, bad input."""

from __future__ import annotations

from typing import Any

import pytest
import structlog
from sqlalchemy import text

from sprintconnect.api_key.service import ApiKeyService
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.identity.principal import Actor
from tests.conftest import Tenant, assert_problem
from tests.notification.conftest import Env

PATH = "/api/v1/me/notification-preferences"
SLACK = "http://127.0.0.1:9/services/T000/B000/slack-secret-part"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


async def test_defaults_send_every_event_to_the_account_email(env: Env, tenant: Tenant) -> None:
    body = (await env.client.get(PATH, headers=tenant.headers)).json()
    assert body["email"]["enabled"] is True
    assert body["email"]["uses_account_email"] is True
    assert body["email"]["address"].startswith("ops-")
    assert body["slack"] == {"enabled": False, "configured": False, "updated_at": None}
    assert body["webhook"]["enabled"] is False
    assert body["webhook"]["secret_configured"] is False
    assert body["events"] == [
        "server.health.degraded",
        "server.health.recovered",
        "server.health.unhealthy",
    ]
    assert body["updated_at"] is None


async def test_secrets_are_stored_but_never_answered_or_logged(env: Env, tenant: Tenant) -> None:
    update = {
        "email": {"enabled": True, "address": "oncall@example.com"},
        "slack": {"enabled": True, "webhook_url": SLACK},
        "webhook": {"enabled": True, "url": "http://127.0.0.1:9/hook", "secret": SECRET},
        "events": ["server.health.unhealthy", "server.health.recovered"],
    }
    with structlog.testing.capture_logs() as logs:
        put = await env.client.put(PATH, json=update, headers=tenant.headers)
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["email"] == {
        "enabled": True,
        "address": "oncall@example.com",
        "uses_account_email": False,
    }
    assert body["slack"]["configured"] is True
    assert body["slack"]["enabled"] is True
    assert body["webhook"]["secret_configured"] is True
    assert body["events"] == ["server.health.recovered", "server.health.unhealthy"]
    got = await env.client.get(PATH, headers=tenant.headers)
    for text_ in (put.text, got.text, repr(logs)):
        assert "slack-secret-part" not in text_
        assert SECRET not in text_
    assert got.json() == body
    # The secrets are in the store, under the member's paths.
    store = env.services.secrets
    stored = await store.get(tenant.org_id, f"notifications/{tenant.user_id}/slack")
    assert stored["url"] == SLACK
    # The audit entry says what changed, never the values.
    async with env.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        details = (
            await session.execute(
                text(
                    "SELECT details FROM audit_events WHERE org_id = :org AND tag = "
                    "'org:notification_preferences:updated'"
                ),
                {"org": tenant.org_id},
            )
        ).scalar_one()
    assert details["slack_webhook_url"] == "set"
    assert details["webhook_secret"] == "set"
    assert "slack-secret-part" not in str(details)

    # Leaving the secrets out keeps them; null removes them.
    kept = await env.client.put(
        PATH,
        json={
            "slack": {"enabled": True},
            "webhook": {"enabled": True, "url": update["webhook"]["url"]},
        },
        headers=tenant.headers,
    )
    assert kept.status_code == 200, kept.text
    assert kept.json()["slack"]["configured"]
    assert kept.json()["webhook"]["secret_configured"]
    removed = await env.client.put(
        PATH,
        json={"slack": {"enabled": False, "webhook_url": None}, "webhook": {"secret": None}},
        headers=tenant.headers,
    )
    assert removed.status_code == 200, removed.text
    assert removed.json()["slack"]["configured"] is False
    assert removed.json()["webhook"]["secret_configured"] is False
    assert not await store.exists(tenant.org_id, f"notifications/{tenant.user_id}/slack")


@pytest.mark.parametrize(
    ("update", "loc"),
    [
        ({"slack": {"enabled": True}}, ["body", "slack", "webhook_url"]),
        ({"webhook": {"enabled": True}}, ["body", "webhook", "url"]),
        ({"webhook": {"url": "ftp://127.0.0.1/hook"}}, ["body", "webhook", "url"]),
        ({"webhook": {"url": "https://169.254.169.254/hook"}}, ["body", "webhook", "url"]),
        ({"webhook": {"url": "https://[::1/hook"}}, ["body", "webhook", "url"]),
        ({"webhook": {"url": "https://u:p@example.com/hook"}}, ["body", "webhook", "url"]),
        (
            {"slack": {"webhook_url": "https://10.0.0.1/services/x"}},
            ["body", "slack", "webhook_url"],
        ),
        ({"webhook": {"url": "https://example.com/h", "secret": "not-a-secret"}}, None),
        ({"email": {"address": "not an address"}}, None),
        ({"events": ["server.health.exploded"]}, None),
        ({"events": "server.health.unhealthy"}, None),
        ({"surprise": True}, None),
        ({"slack": {"webhook_url": "x" * 3000}}, None),
    ],
)
async def test_bad_input_is_422(
    env: Env, tenant: Tenant, update: dict[str, Any], loc: list[str] | None
) -> None:
    response = await env.client.put(PATH, json=update, headers=tenant.headers)
    body = assert_problem(response, 422)
    if loc is not None:
        assert loc in [e["loc"] for e in body["errors"]], body
    # Nothing was saved.
    assert (await env.client.get(PATH, headers=tenant.headers)).json()["updated_at"] is None


async def test_a_service_key_has_no_preferences(env: Env, tenant: Tenant) -> None:
    async with env.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        issued = await ApiKeyService(session, env.runtime.keyring, env.runtime.clock).issue(
            org_id=tenant.org_id,
            name="service",
            description=None,
            scopes=["admin"],
            expires_at=None,
            created_by_user_id=None,
            actor=Actor("system", "tests"),
        )
    headers = {"Authorization": f"Bearer {issued.plaintext}"}
    assert_problem(await env.client.get(PATH, headers=headers), 403, "member-key-required")
    assert_problem(await env.client.put(PATH, json={}, headers=headers), 403, "member-key-required")


async def test_preferences_are_per_member_and_per_organization(env: Env, tenant: Tenant) -> None:
    from tests.jobs.conftest import new_tenant

    other = await new_tenant(env.runtime)
    saved = await env.client.put(PATH, json={"email": {"enabled": False}}, headers=tenant.headers)
    assert saved.status_code == 200
    theirs = (await env.client.get(PATH, headers=other.headers)).json()
    assert theirs["email"]["enabled"] is True
    assert theirs["updated_at"] is None


async def test_removing_a_member_removes_their_channel_secrets(env: Env, tenant: Tenant) -> None:
    added = await env.client.post(
        "/api/v1/users",
        json={"email": "leaver@example.com", "roles": ["engineer"]},
        headers=tenant.headers,
    )
    assert added.status_code == 201, added.text
    user_id = added.json()["user_id"]
    issued = await env.client.post(
        f"/api/v1/users/{user_id}/api-keys",
        json={"name": "leaver", "scopes": ["admin"], "never_expires": True},
        headers=tenant.headers,
    )
    assert issued.status_code == 201, issued.text
    theirs = {"Authorization": f"Bearer {issued.json()['key']}"}
    saved = await env.client.put(
        PATH,
        json={
            "slack": {"enabled": True, "webhook_url": SLACK},
            "webhook": {"enabled": True, "url": "http://127.0.0.1:9/hook", "secret": SECRET},
        },
        headers=theirs,
    )
    assert saved.status_code == 200, saved.text
    store = env.services.secrets
    paths = [f"notifications/{user_id}/slack", f"notifications/{user_id}/webhook"]
    assert all([await store.exists(tenant.org_id, p) for p in paths])

    removed = await env.client.delete(f"/api/v1/users/{user_id}", headers=tenant.headers)
    assert removed.status_code == 204, removed.text
    assert not any([await store.exists(tenant.org_id, p) for p in paths])
