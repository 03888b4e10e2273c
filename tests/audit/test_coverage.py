"""Every state-changing route is audited: a map of routes to tags, kept complete by a test.

Adding a POST, PUT, PATCH or DELETE route under /api/v1? Add it to ``AUDITED`` with the tag a
successful call records, and either a step in ``test_each_audited_route_records_its_entry``
or, when a call needs what this module cannot cheaply set up (a worker, a dead job, a live
MCP server), an entry in ``PROVED_BY`` naming the test that checks the tag. A route that
changes nothing goes to ``EXEMPT`` with the reason. ``test_the_map_covers_every_route``
fails until the route is in one of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from sprintconnect.audit import AuditTag
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.models import AuditEvent
from sprintconnect.runtime import Runtime
from tests.conftest import Tenant

Route = tuple[str, str]
V1 = "/api/v1"
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

AUDITED: dict[Route, AuditTag] = {
    ("POST", "/api/v1/service-accounts"): AuditTag.SERVICE_ACCOUNT_CREATED,
    ("PATCH", "/api/v1/service-accounts/{account_id}"): AuditTag.SERVICE_ACCOUNT_UPDATED,
    (
        "POST",
        "/api/v1/service-accounts/{account_id}/rotate-secret",
    ): AuditTag.SERVICE_ACCOUNT_SECRET_ROTATED,
    ("DELETE", "/api/v1/service-accounts/{account_id}"): AuditTag.SERVICE_ACCOUNT_DELETED,
    ("PUT", "/api/v1/organization/identity-provider"): AuditTag.IDENTITY_PROVIDER_UPDATED,
    ("DELETE", "/api/v1/organization/identity-provider"): AuditTag.IDENTITY_PROVIDER_DELETED,
    ("POST", "/api/v1/api-keys"): AuditTag.API_KEY_CREATED,
    ("POST", "/api/v1/api-keys/{key_id}/revoke"): AuditTag.API_KEY_REVOKED,
    ("POST", "/api/v1/users"): AuditTag.MEMBER_ADDED,
    ("DELETE", "/api/v1/users/{user_id}"): AuditTag.MEMBER_REMOVED,
    ("PUT", "/api/v1/users/{user_id}/roles/{role}"): AuditTag.ROLE_ASSIGNED,
    ("DELETE", "/api/v1/users/{user_id}/roles/{role}"): AuditTag.ROLE_UNASSIGNED,
    ("POST", "/api/v1/users/{user_id}/api-keys"): AuditTag.API_KEY_CREATED,
    ("POST", "/api/v1/roles"): AuditTag.ROLE_CREATED,
    ("PATCH", "/api/v1/roles/{name}"): AuditTag.ROLE_UPDATED,
    ("DELETE", "/api/v1/roles/{name}"): AuditTag.ROLE_DELETED,
    ("POST", "/api/v1/policies"): AuditTag.POLICY_PUBLISHED,
    ("POST", "/api/v1/policies/rollback"): AuditTag.POLICY_ROLLED_BACK,
    ("POST", "/api/v1/servers"): AuditTag.SERVER_REGISTERED,
    ("PATCH", "/api/v1/servers/{server_id}"): AuditTag.SERVER_UPDATED,
    ("DELETE", "/api/v1/servers/{server_id}"): AuditTag.SERVER_DELETED,
    ("POST", "/api/v1/servers/{server_id}/discoveries"): AuditTag.DISCOVERY_REQUESTED,
    ("POST", "/api/v1/servers/{server_id}/health/checks"): AuditTag.HEALTH_CHECK_RUN,
    ("PATCH", "/api/v1/organization"): AuditTag.ORG_SETTINGS_UPDATED,
    ("POST", "/api/v1/admin/jobs/{job_id}/replay"): AuditTag.JOB_REPLAYED,
    ("POST", "/api/v1/admin/jobs/{job_id}/discard"): AuditTag.JOB_DISCARDED,
    ("PUT", "/api/v1/me/notification-preferences"): AuditTag.NOTIFICATION_PREFERENCES_UPDATED,
    ("PUT", "/api/v1/health/escalation-policy"): AuditTag.ESCALATION_POLICY_UPDATED,
    # Webhooks (issue 13).
    ("POST", "/api/v1/webhooks"): AuditTag.WEBHOOK_CREATED,
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): AuditTag.WEBHOOK_UPDATED,
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): AuditTag.WEBHOOK_DELETED,
    ("POST", "/api/v1/webhooks/{webhook_id}/rotate-secret"): AuditTag.WEBHOOK_SECRET_ROTATED,
    (
        "POST",
        "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    ): AuditTag.WEBHOOK_REDELIVERED,
    # The gateway (issue 16): toolsets, and every call of a capability through the playground.
    ("POST", "/api/v1/toolsets"): AuditTag.TOOLSET_CREATED,
    ("PATCH", "/api/v1/toolsets/{toolset_id}"): AuditTag.TOOLSET_UPDATED,
    ("DELETE", "/api/v1/toolsets/{toolset_id}"): AuditTag.TOOLSET_DELETED,
    ("POST", "/api/v1/servers/{server_id}/tools/{name}/invoke"): AuditTag.CAPABILITY_INVOKED,
    ("POST", "/api/v1/servers/{server_id}/resources/read"): AuditTag.CAPABILITY_INVOKED,
    ("POST", "/api/v1/servers/{server_id}/prompts/{name}/get"): AuditTag.CAPABILITY_INVOKED,
}

# Routes that change nothing an organization owns, and why.
EXEMPT: dict[Route, str] = {
    # Evaluates a draft policy against a request; nothing is stored.
    ("POST", "/api/v1/policies/dry-run"): "evaluates, stores nothing",
    # A probe of the server's connection; writes nothing (it releases its transaction first).
    ("POST", "/api/v1/servers/{server_id}/connection-check"): "a probe, stores nothing",
    # Sends a test event to the endpoint; changes no configuration (the attempt is kept in the
    # endpoint's delivery history, which is its record).
    ("POST", "/api/v1/webhooks/{webhook_id}/test"): "a test send, changes no configuration",
    # Recomputes the tree and answers; reads only.
    ("POST", "/api/v1/audit/verify"): "reads only",
    # Signs the tree as the periodic ledger job does: the checkpoint is the log's own signed
    # record (and an audit.checkpoint event); an entry about it would audit the audit log.
    ("POST", "/api/v1/audit/checkpoints"): "the ledger's own record",
}

# Audited routes whose entry another test checks: the test file (or a test file in the
# folder) must name the tag.
PROVED_BY: dict[Route, str] = {
    (
        "PUT",
        "/api/v1/organization/identity-provider",
    ): "tests/identity/session/test_configuration.py",
    (
        "DELETE",
        "/api/v1/organization/identity-provider",
    ): "tests/identity/session/test_configuration.py",
    ("POST", "/api/v1/servers/{server_id}/health/checks"): "tests/health/test_checks.py",
    ("POST", "/api/v1/admin/jobs/{job_id}/replay"): "tests/jobs/test_job_audit.py",
    ("POST", "/api/v1/admin/jobs/{job_id}/discard"): "tests/jobs/test_job_audit.py",
    ("POST", "/api/v1/toolsets"): "tests/gateway",
    ("PATCH", "/api/v1/toolsets/{toolset_id}"): "tests/gateway",
    ("DELETE", "/api/v1/toolsets/{toolset_id}"): "tests/gateway",
    ("POST", "/api/v1/servers/{server_id}/tools/{name}/invoke"): "tests/gateway",
    ("POST", "/api/v1/servers/{server_id}/resources/read"): "tests/gateway",
    ("POST", "/api/v1/servers/{server_id}/prompts/{name}/get"): "tests/gateway",
    ("POST", "/api/v1/webhooks"): "tests/webhook",
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): "tests/webhook",
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): "tests/webhook",
    ("POST", "/api/v1/webhooks/{webhook_id}/rotate-secret"): "tests/webhook",
    (
        "POST",
        "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver",
    ): "tests/webhook",
}

ROOT = Path(__file__).resolve().parents[2]


def mutating_routes(app: FastAPI) -> set[Route]:
    """Every POST, PUT, PATCH and DELETE under /api/v1 that the app serves."""
    routes: set[Route] = set()
    for path, operations in app.openapi()["paths"].items():
        if not path.startswith(f"{V1}/"):
            continue
        routes.update((method.upper(), path) for method in operations if method.upper() in MUTATING)
    return routes


def test_the_map_covers_every_route(app: FastAPI) -> None:
    served = mutating_routes(app)
    listed = set(AUDITED) | set(EXEMPT)
    unlisted = sorted(served - listed)
    assert not unlisted, f"state-changing routes without an audit tag or exemption: {unlisted}"
    assert not sorted(listed - served), "the map names routes the app no longer serves"
    assert not set(AUDITED) & set(EXEMPT)


def test_routes_proved_elsewhere_name_their_tag() -> None:
    for route, test_file in PROVED_BY.items():
        assert route in AUDITED, route
        where = ROOT / test_file
        files = sorted(where.glob("test_*.py")) if where.is_dir() else [where]
        tag = AUDITED[route]
        assert any(str(tag) in f.read_text() or tag.name in f.read_text() for f in files), (
            f"{route}: no test in {test_file} names {tag}"
        )


Call = Callable[[str, str, dict[str, Any] | None], Awaitable[httpx.Response]]


async def _entries_of(runtime: Runtime, org_id: uuid.UUID, request_id: str) -> list[str]:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        stmt = select(AuditEvent.tag).where(AuditEvent.request_id == request_id)
        return list((await session.scalars(stmt)).all())


async def test_each_audited_route_records_its_entry(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    """One successful call per route, in an order that builds what the next needs; each
    call's own request wrote the route's tag (same transaction: same request id)."""
    exercised: set[Route] = set()

    async def call(
        method: str, template: str, body: dict[str, Any] | None = None, **ids: str
    ) -> dict[str, Any]:
        response = await client.request(
            method, template.format(**ids), json=body, headers=tenant.headers
        )
        assert response.status_code < 300, (method, template, response.text)
        route = (method, template)
        tags = await _entries_of(runtime, tenant.org_id, response.headers["x-request-id"])
        assert str(AUDITED[route]) in tags, (route, tags)
        exercised.add(route)
        return response.json() if response.content else {}

    key = await call("POST", f"{V1}/api-keys", {"name": "coverage", "scopes": ["read"]})
    await call("POST", f"{V1}/api-keys/{{key_id}}/revoke", key_id=key["api_key"]["id"])
    email = f"coverage-{uuid.uuid4().hex[:8]}@example.com"
    user = await call("POST", f"{V1}/users", {"email": email, "roles": ["viewer"]})
    user_id = user["user_id"]
    await call("PUT", f"{V1}/users/{{user_id}}/roles/{{role}}", user_id=user_id, role="engineer")
    await call("DELETE", f"{V1}/users/{{user_id}}/roles/{{role}}", user_id=user_id, role="engineer")
    await call(
        "POST",
        f"{V1}/users/{{user_id}}/api-keys",
        {"name": "member", "scopes": ["read"], "never_expires": True},
        user_id=user_id,
    )
    await call("DELETE", f"{V1}/users/{{user_id}}", user_id=user_id)

    await call("POST", f"{V1}/roles", {"name": "coverage-role", "permissions": ["servers:read"]})
    await call("PATCH", f"{V1}/roles/{{name}}", {"description": "changed"}, name="coverage-role")
    await call("DELETE", f"{V1}/roles/{{name}}", name="coverage-role")

    never = 'forbid (principal, action == Action::"servers:write", resource) when { false };'
    await call("POST", f"{V1}/policies", {"text": f'@id("a")\n{never}', "comment": "one"})
    await call("POST", f"{V1}/policies", {"text": f'@id("b")\n{never}', "comment": "two"})
    await call("POST", f"{V1}/policies/rollback", {"version": 1})

    server = await call(
        "POST",
        f"{V1}/servers",
        {
            "name": f"coverage-{uuid.uuid4().hex[:6]}",
            "url": "https://mcp.example.com/mcp",
            "auto_discover": False,
        },
    )
    server_id = server["server"]["id"]
    await call(
        "PATCH", f"{V1}/servers/{{server_id}}", {"description": "changed"}, server_id=server_id
    )
    await call("POST", f"{V1}/servers/{{server_id}}/discoveries", None, server_id=server_id)
    await call("DELETE", f"{V1}/servers/{{server_id}}", server_id=server_id)

    await call("PATCH", f"{V1}/organization", {"time_zone": "Europe/Berlin"})
    await call(
        "PUT",
        f"{V1}/me/notification-preferences",
        {"email": {"enabled": True}, "events": ["server.health.unhealthy"]},
    )
    roles = {"roles": ["admin"], "user_ids": []}
    await call(
        "PUT",
        f"{V1}/health/escalation-policy",
        {"degraded": roles, "unhealthy": roles, "cooldown_minutes": 30, "repeat_minutes": 60},
    )

    account = await call(
        "POST", f"{V1}/service-accounts", {"name": "coverage-bot", "roles": ["viewer"]}
    )
    account_id = account["service_account"]["id"]
    await call(
        "PATCH",
        f"{V1}/service-accounts/{{account_id}}",
        {"description": "changed"},
        account_id=account_id,
    )
    await call("POST", f"{V1}/service-accounts/{{account_id}}/rotate-secret", account_id=account_id)
    await call("DELETE", f"{V1}/service-accounts/{{account_id}}", account_id=account_id)

    missing = sorted(set(AUDITED) - set(PROVED_BY) - exercised)
    assert not missing, f"audited routes neither exercised here nor proved elsewhere: {missing}"
