"""Operator maintenance of the local secret store is audited in each organization it touches,
in the transaction that changes the keys."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.models import AuditEvent
from sprintconnect.runtime import Runtime
from sprintconnect.secret import LocalSecretStore
from tests.conftest import TenantFactory


def _store(runtime: Runtime, kek_version: int) -> LocalSecretStore:
    return LocalSecretStore(
        runtime.db.sessionmaker, runtime.keyring, kek_version=kek_version, clock=runtime.clock
    )


async def _entries(runtime: Runtime, org_id: uuid.UUID, tag: str) -> list[AuditEvent]:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        stmt = select(AuditEvent).where(AuditEvent.tag == tag).order_by(AuditEvent.seq)
        return list((await session.scalars(stmt)).all())


async def test_a_data_key_rotation_is_audited(runtime: Runtime, make_tenant: TenantFactory) -> None:
    tenant = await make_tenant()
    store = _store(runtime, 1)
    await store.put(tenant.org_id, "audit/a", {"v": "value-a"})
    rotation = await store.rotate_data_key(tenant.org_id)
    [entry] = await _entries(runtime, tenant.org_id, "org:secret_data_key:rotated")
    assert (entry.actor_type, entry.actor_id) == ("system", "cli")
    assert entry.target_type == "secret_store"
    assert entry.details == {"dek_version": rotation.dek_version, "reencrypted_secrets": 1}
    assert "value-a" not in str(entry.details)


async def test_a_kek_rewrap_is_audited_where_it_changed_keys(
    runtime: Runtime, make_tenant: TenantFactory
) -> None:
    tenant, untouched = await make_tenant(), await make_tenant()
    await _store(runtime, 1).put(tenant.org_id, "audit/b", {"v": "b"})
    rotation = await _store(runtime, 31).rotate_keys()
    assert rotation.failed_organizations == ()
    [entry] = await _entries(runtime, tenant.org_id, "org:secret_data_key:rewrapped")
    assert entry.details == {"kek_version": 31, "data_keys": 1}
    # An organization without data keys had nothing rewrapped and records nothing.
    assert await _entries(runtime, untouched.org_id, "org:secret_data_key:rewrapped") == []
    # A second run changes nothing and records nothing.
    await _store(runtime, 31).rotate_keys()
    assert len(await _entries(runtime, tenant.org_id, "org:secret_data_key:rewrapped")) == 1
