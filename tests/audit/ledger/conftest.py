"""Helpers of the ledger tests: write entries, sequence, checkpoint, tamper as the owner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import text

from sprintconnect import audit
from sprintconnect.audit import AuditTag
from sprintconnect.audit.ledger import service
from sprintconnect.audit.ledger.sequencer import sequence
from sprintconnect.audit.ledger.verify import Report, verify_org
from sprintconnect.db.owner import owner_transaction
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.identity.principal import Actor
from sprintconnect.runtime import Runtime


async def write_entries(runtime: Runtime, org_id: UUID, count: int) -> None:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        for i in range(count):
            await audit.record(
                session,
                AuditTag.SERVER_UPDATED,
                org_id=org_id,
                actor=Actor("system", "test"),
                target=audit.Target("mcp_server", f"s-{i}"),
                details={"n": i, "note": "ünïcode", "nested": {"b": 1, "a": [1, 2]}},
            )


async def sequence_now(runtime: Runtime, org_id: UUID) -> int:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        return await sequence(session, org_id, runtime.clock.now())


async def checkpoint_now(runtime: Runtime, org_id: UUID) -> service.Published | None:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        await sequence(session, org_id, runtime.clock.now())
        return await service.publish_checkpoint(
            session, runtime.keyring, org_id, runtime.clock.now()
        )


async def verify_now(runtime: Runtime, org_id: UUID) -> Report:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        return await verify_org(session, org_id)


async def as_owner(runtime: Runtime, org_id: UUID, *statements: str, **params: Any) -> None:
    """Run ``statements`` in one transaction as the database owner, who bypasses the
    application's grants (row-level security is forced on it too: bound to ``org_id``)."""
    async with owner_transaction(runtime.db) as session:
        await session.execute(
            text("SELECT set_config('app.org_id', :org, true)"), {"org": str(org_id)}
        )
        for sql in statements:
            await session.execute(text(sql), {**params, "org": org_id})


async def leaves_of(runtime: Runtime, org_id: UUID) -> list[dict[str, Any]]:
    async with owner_transaction(runtime.db) as session:
        await session.execute(
            text("SELECT set_config('app.org_id', :org, true)"), {"org": str(org_id)}
        )
        rows = await session.execute(
            text(
                "SELECT l.leaf_index, l.event_id, l.seq FROM audit_leaves l "
                "WHERE l.org_id = :org ORDER BY l.leaf_index"
            ),
            {"org": org_id},
        )
        return [dict(r) for r in rows.mappings()]


Ledger = Callable[[int], Awaitable[list[dict[str, Any]]]]


@pytest.fixture
def ledger(runtime: Runtime, tenant: Any) -> Ledger:
    """``ledger(n)``: n more entries in the tenant's log, sequenced and checkpointed; the
    leaves (index, event id, seq), in order."""

    async def make(count: int) -> list[dict[str, Any]]:
        await write_entries(runtime, tenant.org_id, count)
        await checkpoint_now(runtime, tenant.org_id)
        return await leaves_of(runtime, tenant.org_id)

    return make
