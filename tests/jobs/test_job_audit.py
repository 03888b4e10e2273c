"""Replaying or discarding a job is audited: on the platform, and in the job's organization."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import ProgrammingError

from sprintconnect.runtime import Runtime
from tests.conftest import Tenant, TenantFactory

ADMIN = "/api/v1/admin/jobs"
QUEUE = "sc-tests-job-audit"


@pytest.fixture
def dead_job(admin_engine: Engine) -> Iterator[Any]:
    """Make dead jobs straight in procrastinate's table (no worker needed); remove them after."""

    def make(args: dict[str, Any]) -> int:
        with admin_engine.begin() as conn:
            job_id: int = conn.execute(
                text(
                    "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, attempts)"
                    " VALUES (:q, 'sc:tests.audited', CAST(:a AS jsonb), 'failed', 3) RETURNING id"
                ),
                {"q": QUEUE, "a": json.dumps(args)},
            ).scalar_one()
        return job_id

    yield make
    with admin_engine.begin() as conn:
        conn.execute(text("DELETE FROM procrastinate_jobs WHERE queue_name = :q"), {"q": QUEUE})


def _platform_entries(admin_engine: Engine, job_id: int) -> list[Any]:
    with admin_engine.begin() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT tag, actor_type, actor_id, target_type, target_id, details, request_id"
                    " FROM platform_audit_events WHERE target_type = 'job' AND target_id = :id"
                ),
                {"id": str(job_id)},
            )
        )


def _org_entries(admin_engine: Engine, org_id: uuid.UUID, job_id: int) -> list[Any]:
    with admin_engine.begin() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT tag, actor_type, actor_id, details FROM audit_events"
                    " WHERE org_id = :org AND target_type = 'job' AND target_id = :id"
                ),
                {"org": org_id, "id": str(job_id)},
            )
        )


async def test_a_replay_names_the_operator_on_the_platform_and_in_the_jobs_org(
    client: httpx.AsyncClient,
    operator: Tenant,
    make_tenant: TenantFactory,
    dead_job: Any,
    admin_engine: Engine,
) -> None:
    customer = await make_tenant()
    job_id = dead_job({"org_id": str(customer.org_id), "discovery_id": str(uuid.uuid4())})
    replayed = await client.post(f"{ADMIN}/{job_id}/replay", headers=operator.headers)
    assert replayed.status_code == 200, replayed.text

    (entry,) = _platform_entries(admin_engine, job_id)
    assert entry.tag == "platform:job:replayed"
    assert (entry.actor_type, entry.actor_id) == ("user", str(operator.user_id))
    assert entry.details["task"] == "sc:tests.audited"
    assert entry.details["org_id"] == str(customer.org_id)
    assert entry.details["api_key_id"] == str(operator.key_id)
    assert entry.request_id == replayed.headers["x-request-id"]

    (seen,) = _org_entries(admin_engine, customer.org_id, job_id)
    assert seen.tag == "platform:job:replayed"
    assert (seen.actor_type, seen.actor_id) == ("user", str(operator.user_id))
    # The operator's own organization is not where the customer's job is recorded.
    assert _org_entries(admin_engine, operator.org_id, job_id) == []


async def test_a_discard_is_audited_and_a_refused_one_is_not(
    client: httpx.AsyncClient,
    operator: Tenant,
    tenant: Tenant,
    dead_job: Any,
    admin_engine: Engine,
) -> None:
    job_id = dead_job({"marker": "no organization"})
    # A member who is no platform operator changes nothing and leaves no platform entry.
    refused = await client.post(f"{ADMIN}/{job_id}/discard", headers=tenant.headers)
    assert refused.status_code == 403
    assert _platform_entries(admin_engine, job_id) == []
    discarded = await client.post(f"{ADMIN}/{job_id}/discard", headers=operator.headers)
    assert discarded.status_code == 204, discarded.text
    (entry,) = _platform_entries(admin_engine, job_id)
    assert entry.tag == "platform:job:discarded"
    assert (entry.actor_type, entry.actor_id) == ("user", str(operator.user_id))
    assert entry.details["org_id"] is None


async def test_a_job_naming_an_unknown_org_is_still_audited_on_the_platform(
    client: httpx.AsyncClient, operator: Tenant, dead_job: Any, admin_engine: Engine
) -> None:
    job_id = dead_job({"org_id": str(uuid.uuid4())})
    discarded = await client.post(f"{ADMIN}/{job_id}/discard", headers=operator.headers)
    assert discarded.status_code == 204, discarded.text
    assert [e.tag for e in _platform_entries(admin_engine, job_id)] == ["platform:job:discarded"]


async def test_the_application_role_cannot_read_or_change_the_platform_log(
    runtime: Runtime,
) -> None:
    for statement in (
        "SELECT count(*) FROM platform_audit_events",
        "UPDATE platform_audit_events SET tag = 'x'",
        "DELETE FROM platform_audit_events",
    ):
        async with runtime.db.engine.connect() as conn:
            with pytest.raises(ProgrammingError, match="permission denied"):
                await conn.execute(text(statement))
