"""The platform's audit stream: super admins read it through the API, nobody else does."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from sprintconnect import audit
from sprintconnect.identity.principal import Actor
from sprintconnect.runtime import Runtime
from tests.conftest import Tenant, assert_problem
from tests.jobs.conftest import make_super_admin, new_tenant

PLATFORM = "/api/v1/platform/audit/events"


async def _record(runtime: Runtime, tag: audit.AuditTag, marker: str) -> None:
    async with runtime.db.sessionmaker() as session, session.begin():
        await audit.record_platform(
            session,
            tag,
            actor=Actor("user", str(uuid.uuid4())),
            target=audit.Target("job", marker),
            details={"marker": marker},
        )


async def _pages(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> list[Any]:
    items: list[Any] = []
    query: dict[str, Any] = {"limit": 2, **params}
    for _ in range(1000):
        body = (await client.get(PLATFORM, params=query, headers=headers)).json()
        items += body["items"]
        if body["next_cursor"] is None:
            break
        query["cursor"] = body["next_cursor"]
    return items


@pytest.fixture
async def operator(runtime: Runtime) -> Tenant:
    tenant = await new_tenant(runtime)
    await make_super_admin(runtime, tenant.user_id)
    return tenant


async def test_super_admins_read_the_platform_stream_newest_first(
    client: httpx.AsyncClient, operator: Tenant, runtime: Runtime
) -> None:
    marker = uuid.uuid4().hex
    await _record(runtime, audit.AuditTag.JOB_REPLAYED, marker)
    await _record(runtime, audit.AuditTag.JOB_DISCARDED, marker)
    await _record(runtime, audit.AuditTag.JOB_REPLAYED, marker)
    first = await client.get(PLATFORM, headers=operator.headers)
    assert first.status_code == 200, first.text
    mine = [e for e in first.json()["items"] if e["target"] == {"type": "job", "id": marker}]
    assert [e["action"] for e in mine] == [
        "platform:job:replayed",
        "platform:job:discarded",
        "platform:job:replayed",
    ]
    assert mine[0]["seq"] > mine[1]["seq"] > mine[2]["seq"]
    assert mine[0]["details"] == {"marker": marker}
    assert mine[0]["outcome"] == "success"

    # Pages cover everything once; action filters exactly or by prefix.
    everything = await _pages(client, operator.headers)
    seqs = [e["seq"] for e in everything]
    assert seqs == sorted(set(seqs), reverse=True)
    replayed = await _pages(client, operator.headers, action="platform:job:replayed")
    assert {e["action"] for e in replayed} == {"platform:job:replayed"}
    jobs = await _pages(client, operator.headers, action="platform:job:")
    assert {e["action"] for e in jobs} == {"platform:job:replayed", "platform:job:discarded"}
    assert len(jobs) == len([e for e in everything if e["action"].startswith("platform:job:")])


async def test_others_are_refused(
    client: httpx.AsyncClient, tenant: Tenant, operator: Tenant
) -> None:
    assert_problem(await client.get(PLATFORM, headers=tenant.headers), 403, "super-admin-required")
    assert_problem(await client.get(PLATFORM), 401)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cursor=bad", "cursor"),
        ("cursor=WyJ4Il0", "cursor"),  # ["x"]
        ("cursor=WzBd", "cursor"),  # [0]
        ("action=platform%20job", "action"),
        ("limit=0", "limit"),
        ("from=2026-01-01T00:00:00Z", "from"),
    ],
)
async def test_malformed_queries_are_422(
    client: httpx.AsyncClient, operator: Tenant, query: str, field: str
) -> None:
    body = assert_problem(await client.get(f"{PLATFORM}?{query}", headers=operator.headers), 422)
    assert any(error["loc"][-1] == field for error in body["errors"]), body


async def test_the_application_role_still_cannot_select_the_table(runtime: Runtime) -> None:
    async with runtime.db.sessionmaker() as session:
        with pytest.raises(ProgrammingError, match="permission denied"):
            await session.execute(text("SELECT count(*) FROM platform_audit_events"))
