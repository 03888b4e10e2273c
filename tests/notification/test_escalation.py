"""``/api/v1/health/escalation-policy`` and ``/api/v1/notifications/deliveries``: access."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text

from sprintconnect.db.tenancy import bind_tenant
from tests.conftest import Tenant, assert_problem
from tests.jobs.conftest import new_tenant
from tests.notification.conftest import Env, add_member

PATH = "/api/v1/health/escalation-policy"


async def test_default_policy_notifies_admins(env: Env, tenant: Tenant) -> None:
    body = (await env.client.get(PATH, headers=tenant.headers)).json()
    assert body["is_default"] is True
    assert body["unhealthy"] == {"user_ids": [], "roles": ["admin"]}
    assert body["degraded"] == {"user_ids": [], "roles": ["admin"]}
    assert body["repeat_minutes"] == 60
    assert body["cooldown_minutes"] == 30


async def test_set_policy_is_audited(env: Env, tenant: Tenant) -> None:
    engineer = await add_member(env, tenant, ["engineer"])
    policy = {
        "unhealthy": {"user_ids": [str(engineer.user_id)], "roles": []},
        "degraded": {"user_ids": [], "roles": ["admin", "engineer"]},
        "repeat_minutes": 0,
        "cooldown_minutes": 10,
    }
    # An engineer holds health:write.
    put = await env.client.put(PATH, json=policy, headers=engineer.headers)
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["is_default"] is False
    assert body["unhealthy"]["user_ids"] == [str(engineer.user_id)]
    assert body["updated_by_user_id"] == str(engineer.user_id)
    assert (await env.client.get(PATH, headers=tenant.headers)).json() == body
    async with env.runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        count = (
            await session.execute(
                text(
                    "SELECT count(*) FROM audit_events WHERE org_id = :org AND tag = "
                    "'org:escalation_policy:updated'"
                ),
                {"org": tenant.org_id},
            )
        ).scalar_one()
    assert count == 1


async def test_viewers_read_but_do_not_change_it(env: Env, tenant: Tenant) -> None:
    viewer = await add_member(env, tenant, ["viewer"])
    assert (await env.client.get(PATH, headers=viewer.headers)).status_code == 200
    policy = {
        "unhealthy": {"roles": ["viewer"]},
        "degraded": {},
        "repeat_minutes": 5,
        "cooldown_minutes": 5,
    }
    assert_problem(await env.client.put(PATH, json=policy, headers=viewer.headers), 403)
    assert (await env.client.get(PATH, headers=tenant.headers)).json()["is_default"] is True


@pytest.mark.parametrize(
    "policy",
    [
        {"unhealthy": {"user_ids": [str(uuid.uuid4())]}, "degraded": {}},
        {"unhealthy": {"roles": ["no-such-role"]}, "degraded": {}},
        {"unhealthy": {"roles": ["Bad Role!"]}, "degraded": {}},
        {"unhealthy": {}, "degraded": {}, "repeat_minutes": -1},
        {"unhealthy": {}, "degraded": {}, "repeat_minutes": 10**9},
        {"unhealthy": {}, "degraded": {}, "cooldown_minutes": 1441},
        {"unhealthy": {"user_ids": ["not-a-uuid"]}, "degraded": {}},
        {"unhealthy": {}, "degraded": {}, "escalate_to": "ceo"},
        {"degraded": {}},
    ],
)
async def test_bad_policies_are_422(env: Env, tenant: Tenant, policy: dict[str, Any]) -> None:
    policy = {"repeat_minutes": 5, "cooldown_minutes": 5, **policy}
    assert_problem(await env.client.put(PATH, json=policy, headers=tenant.headers), 422)
    assert (await env.client.get(PATH, headers=tenant.headers)).json()["is_default"] is True


async def test_another_organizations_member_is_not_a_recipient(env: Env, tenant: Tenant) -> None:
    other = await new_tenant(env.runtime)
    policy = {
        "unhealthy": {"user_ids": [str(other.user_id)]},
        "degraded": {},
        "repeat_minutes": 5,
        "cooldown_minutes": 5,
    }
    body = assert_problem(await env.client.put(PATH, json=policy, headers=tenant.headers), 422)
    assert body["errors"][0]["loc"] == ["body", "unhealthy", "user_ids", 0]


async def test_deliveries_are_for_admins(env: Env, tenant: Tenant) -> None:
    engineer = await add_member(env, tenant, ["engineer"])
    path = "/api/v1/notifications/deliveries"
    assert_problem(await env.client.get(path, headers=engineer.headers), 403)
    listed = await env.client.get(path, headers=tenant.headers)
    assert listed.status_code == 200
    assert listed.json() == {"items": [], "next_cursor": None}
    for query in ("status=lost", "limit=0", "cursor=%%%", "other=1"):
        assert_problem(await env.client.get(f"{path}?{query}", headers=tenant.headers), 422)
