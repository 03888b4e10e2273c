"""Measurements are written in batches, kept when the database refuses them, bounded in memory,
and written at shutdown."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.gateway.measure import Measurement, MeasurementWriter
from sprintconnect.models import ToolCall
from sprintconnect.runtime import Runtime
from tests.conftest import Tenant, TenantFactory


def row(org_id: uuid.UUID, name: str = "echo") -> Measurement:
    return Measurement(
        org_id=org_id,
        at=datetime.now(UTC),
        source="gateway",
        toolset_id=None,
        server_id=uuid.uuid4(),
        kind="tool",
        name=name,
        capability_class="write",
        caller_type="api_key",
        caller_id=str(uuid.uuid4()),
        caller_user_id=None,
        status="ok",
        error_class=None,
        latency_ms=1.5,
        request_bytes=10,
        response_bytes=20,
        est_tokens=8,
    )


async def count(runtime: Runtime, org_id: uuid.UUID) -> int:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        stmt = select(func.count()).select_from(ToolCall).where(ToolCall.org_id == org_id)
        return int((await session.execute(stmt)).scalar_one())


async def test_rows_wait_when_refused_and_are_written_at_stop(
    runtime: Runtime, tenant: Tenant
) -> None:
    writer = MeasurementWriter(runtime.db.sessionmaker, flush_seconds=60, max_rows=100)
    missing_org = uuid.uuid4()  # no such organization: the insert is refused
    writer.add(row(tenant.org_id, "first"))
    writer.add(row(missing_org))
    with pytest.raises(Exception):  # noqa: B017, PT011 - the database's refusal, whatever its class
        await writer.flush()
    # What was written stays written; what was refused waits for the next flush.
    assert await count(runtime, tenant.org_id) == 1
    assert writer.pending() == 1
    writer2 = MeasurementWriter(runtime.db.sessionmaker, flush_seconds=60, max_rows=100)
    await writer2.start()
    writer2.add(row(tenant.org_id, "second"))
    writer2.add(row(tenant.org_id, "third"))
    await writer2.stop()
    assert await count(runtime, tenant.org_id) == 3


async def test_the_buffer_is_bounded(runtime: Runtime, tenant: Tenant) -> None:
    writer = MeasurementWriter(runtime.db.sessionmaker, flush_seconds=60, max_rows=100)
    for _ in range(150):
        writer.add(row(tenant.org_id))
    assert writer.pending() == 100
    assert await writer.flush() == 100
    assert writer.pending() == 0


async def test_retention_prunes_old_measurements_of_every_tenant(
    runtime: Runtime, tenant: Tenant, make_tenant: TenantFactory
) -> None:
    from datetime import timedelta

    from sprintconnect.gateway.tasks import prune_measurements

    other = await make_tenant()
    writer = MeasurementWriter(runtime.db.sessionmaker, flush_seconds=60, max_rows=100)
    now = datetime.now(UTC)
    days = runtime.settings.measurement_retention_days
    for org_id in (tenant.org_id, other.org_id):
        old = row(org_id, "old")
        writer.add(Measurement(**{**old.__dict__, "at": now - timedelta(days=days + 1)}))
        writer.add(row(org_id, "recent"))
    await writer.flush()
    assert await prune_measurements(runtime.db.sessionmaker, runtime.settings, now, batch=1) >= 2
    for org_id in (tenant.org_id, other.org_id):
        assert await count(runtime, org_id) >= 1
        async with runtime.db.sessionmaker() as session, session.begin():
            await bind_tenant(session, org_id)
            names = (
                (await session.execute(select(ToolCall.name).where(ToolCall.org_id == org_id)))
                .scalars()
                .all()
            )
        assert "old" not in names
