"""Discarding a dead discovery job fails its discovery, instead of leaving it queued forever."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from tests.conftest import Tenant, TenantFactory
from tests.mcp_server.support import registered_id

ADMIN = "/api/v1/admin/jobs"
QUEUE = "sc-tests-discard-discovery"


@pytest.fixture
def dead_discovery_job(admin_engine: Engine) -> Iterator[Any]:
    """A discovery job that has failed its last attempt, straight in procrastinate's table."""

    def make(tenant: Tenant, server_id: str, discovery_id: str) -> int:
        args = {"discovery_id": discovery_id, "server_id": server_id, "org_id": str(tenant.org_id)}
        with admin_engine.begin() as conn:
            job_id: int = conn.execute(
                text(
                    "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, attempts,"
                    " sc_last_error) VALUES (:q, 'sc:discovery.run', CAST(:a AS jsonb), 'failed',"
                    " 5, 'OperationalError: the database went away') RETURNING id"
                ),
                {"q": QUEUE, "a": json.dumps(args)},
            ).scalar_one()
        return job_id

    yield make
    with admin_engine.begin() as conn:
        conn.execute(text("DELETE FROM procrastinate_jobs WHERE queue_name = :q"), {"q": QUEUE})


async def queued_discovery(client: httpx.AsyncClient, tenant: Tenant) -> tuple[str, str]:
    server_id = await registered_id(client, tenant)
    queued = await client.post(f"/api/v1/servers/{server_id}/discoveries", headers=tenant.headers)
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "queued"
    return server_id, str(queued.json()["id"])


async def test_discarding_a_dead_discovery_job_fails_its_discovery(
    client: httpx.AsyncClient, operator: Tenant, make_tenant: TenantFactory, dead_discovery_job: Any
) -> None:
    customer = await make_tenant()
    server_id, discovery_id = await queued_discovery(client, customer)
    job_id = dead_discovery_job(customer, server_id, discovery_id)
    shown = (await client.get(f"{ADMIN}/{job_id}", headers=operator.headers)).json()
    assert shown["last_error"] == "OperationalError: the database went away"

    discarded = await client.post(f"{ADMIN}/{job_id}/discard", headers=operator.headers)
    assert discarded.status_code == 204, discarded.text
    after = (
        await client.get(f"/api/v1/discoveries/{discovery_id}", headers=customer.headers)
    ).json()
    assert after["status"] == "failed", after
    assert after["reason"] == "job_discarded"
    assert "discarded" in after["error"]
    assert after["guidance"]
    assert after["finished_at"] is not None
    # The server is free for a new discovery: the next request queues a fresh one.
    again = await client.post(f"/api/v1/servers/{server_id}/discoveries", headers=customer.headers)
    assert again.status_code == 202, again.text
    assert again.json()["id"] != discovery_id
    assert "x-discovery-reused" not in again.headers


async def test_a_finished_discovery_is_left_as_it_was(
    client: httpx.AsyncClient,
    operator: Tenant,
    make_tenant: TenantFactory,
    dead_discovery_job: Any,
    admin_engine: Engine,
) -> None:
    customer = await make_tenant()
    server_id, discovery_id = await queued_discovery(client, customer)
    with admin_engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE discoveries SET status = 'succeeded', outcome = 'first', "
                "finished_at = now() WHERE id = :id"
            ),
            {"id": discovery_id},
        )
    job_id = dead_discovery_job(customer, server_id, discovery_id)
    assert (
        await client.post(f"{ADMIN}/{job_id}/discard", headers=operator.headers)
    ).status_code == 204
    after = (
        await client.get(f"/api/v1/discoveries/{discovery_id}", headers=customer.headers)
    ).json()
    assert after["status"] == "succeeded"
    assert after["reason"] is None
