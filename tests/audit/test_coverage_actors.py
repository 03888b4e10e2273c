"""Entries tell the kinds of actor apart: a user's key (with its owner), a service key, a
platform operator, the system."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select

from sprintconnect.api_key.service import ApiKeyService
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.identity.principal import Actor
from sprintconnect.models import AuditEvent
from sprintconnect.runtime import Runtime
from tests.conftest import MemberFactory, Tenant
from tests.jobs.conftest import make_super_admin

ORG = "/api/v1/organization"


async def _entry(runtime: Runtime, org_id: uuid.UUID, request_id: str) -> AuditEvent:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        stmt = select(AuditEvent).where(
            AuditEvent.request_id == request_id,
            AuditEvent.tag == "org:organization:settings_updated",
        )
        entry = (await session.scalars(stmt)).one()
    return entry


async def _change(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await client.patch(ORG, json={"time_zone": "Europe/Paris"}, headers=headers)
    assert response.status_code == 200, response.text
    return response.headers["x-request-id"]


async def test_a_members_key_names_the_key_and_its_owner(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory, runtime: Runtime
) -> None:
    member = await make_member(tenant, ["admin"])
    entry = await _entry(runtime, tenant.org_id, await _change(client, member.headers))
    assert (entry.actor_type, entry.actor_id) == ("api_key", str(member.key_id))
    assert entry.actor_user_id == str(member.user_id)
    assert entry.actor_super_admin is False


async def test_a_service_key_names_no_user(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        issued = await ApiKeyService(session, runtime.keyring, runtime.clock).issue(
            org_id=tenant.org_id,
            name="deployer",
            description=None,
            scopes=["admin"],
            expires_at=None,
            created_by_user_id=None,
            actor=Actor("system", "tests"),
        )
    headers = {"Authorization": f"Bearer {issued.plaintext}"}
    entry = await _entry(runtime, tenant.org_id, await _change(client, headers))
    assert (entry.actor_type, entry.actor_id) == ("service", str(issued.record.id))
    assert entry.actor_user_id is None


async def test_a_platform_operator_is_marked(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    await make_super_admin(runtime, tenant.user_id)
    entry = await _entry(runtime, tenant.org_id, await _change(client, tenant.headers))
    assert (entry.actor_type, entry.actor_user_id) == ("api_key", str(tenant.user_id))
    assert entry.actor_super_admin is True


async def test_the_system_is_an_actor_of_its_own(tenant: Tenant, runtime: Runtime) -> None:
    """Bootstrap (the CLI) wrote the organization's first entries as ``system``."""
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        stmt = select(AuditEvent).where(AuditEvent.tag == "org:organization:bootstrapped")
        entry = (await session.scalars(stmt)).one()
    assert (entry.actor_type, entry.actor_id, entry.actor_user_id) == ("system", "bootstrap", None)
    assert entry.actor_super_admin is False
