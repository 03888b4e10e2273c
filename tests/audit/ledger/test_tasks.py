"""The periodic run: sequence every organization, sign the trees that grew when due."""

from __future__ import annotations

from datetime import timedelta

from sprintconnect.audit.ledger.repository import LedgerRepository
from sprintconnect.audit.ledger.service import maintain
from sprintconnect.audit.ledger.tasks import build_blueprint
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.runtime import Runtime
from tests.audit.ledger.conftest import leaves_of, write_entries
from tests.conftest import Tenant, TenantFactory


async def _latest_size(runtime: Runtime, tenant: Tenant) -> int | None:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        latest = await LedgerRepository(session).latest_checkpoint(tenant.org_id)
        return latest.tree_size if latest else None


async def test_the_periodic_run_sequences_and_signs_when_due(
    runtime: Runtime, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    other = await make_tenant()
    await write_entries(runtime, tenant.org_id, 3)
    now = runtime.clock.now()
    done = await maintain(runtime.db.sessionmaker, runtime.keyring, checkpoint_seconds=300, now=now)
    assert done["failed"] == 0
    size = await _latest_size(runtime, tenant)
    assert size == len(await leaves_of(runtime, tenant.org_id)) == 7
    assert await _latest_size(runtime, other) == 4  # every organization, each its own tree

    # Grown, but the last checkpoint is recent: sequenced, not signed.
    await write_entries(runtime, tenant.org_id, 2)
    await maintain(
        runtime.db.sessionmaker,
        runtime.keyring,
        checkpoint_seconds=300,
        now=now + timedelta(seconds=60),
    )
    assert len(await leaves_of(runtime, tenant.org_id)) == 9
    assert await _latest_size(runtime, tenant) == 7

    # Due: signed. Not grown: nothing new however late.
    later = now + timedelta(seconds=301)
    await maintain(runtime.db.sessionmaker, runtime.keyring, checkpoint_seconds=300, now=later)
    assert await _latest_size(runtime, tenant) == 9
    await maintain(
        runtime.db.sessionmaker,
        runtime.keyring,
        checkpoint_seconds=300,
        now=later + timedelta(hours=1),
    )
    assert await _latest_size(runtime, tenant) == 9


def test_the_job_is_a_periodic_task_every_minute() -> None:
    blueprint = build_blueprint()
    assert "audit.ledger" in blueprint.tasks
    periodic = blueprint.periodic_registry.periodic_tasks
    assert any(p.cron == "* * * * *" for p in periodic.values())
