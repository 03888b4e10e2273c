"""Authentication in the audit log: a key's use once per window, refusals with their context,
and refusals that name no organization in the platform log, bounded."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select, text

from sprintconnect.api_key.service import ApiKeyService
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.identity.auth_events import UnattributedAudit
from sprintconnect.identity.principal import Actor
from sprintconnect.models import AuditEvent
from sprintconnect.runtime import Runtime
from tests.conftest import AppClientFactory, ShiftableClock, Tenant, TenantFactory, assert_problem

ME = "/api/v1/me"
USED = "org:api_key:authenticated"
UA = {"User-Agent": "audit-tests/1.0"}


async def _entries(runtime: Runtime, org_id: uuid.UUID, tag: str) -> list[AuditEvent]:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, org_id)
        stmt = select(AuditEvent).where(AuditEvent.tag == tag).order_by(AuditEvent.seq)
        return list((await session.scalars(stmt)).all())


def _client(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 4321))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_a_keys_use_is_audited_once_per_debounce_window(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, moved_clock: ShiftableClock
) -> None:
    first = await client.get(ME, headers={**tenant.headers, **UA})
    assert first.status_code == 200
    for _ in range(3):
        assert (await client.get(ME, headers={**tenant.headers, **UA})).status_code == 200
    [entry] = await _entries(runtime, tenant.org_id, USED)
    assert (entry.actor_type, entry.actor_id) == ("api_key", str(tenant.key_id))
    assert entry.actor_user_id == str(tenant.user_id)
    assert (entry.target_type, entry.target_id) == ("api_key", str(tenant.key_id))
    assert entry.request_id == first.headers["x-request-id"]
    assert entry.user_agent == "audit-tests/1.0"
    assert entry.ip is not None
    prefix = tenant.key.split("_")[1]
    assert entry.details == {
        "key_prefix": f"sc_{prefix}",
        "window_seconds": 60,
        "new_client": True,
    }
    assert tenant.key.split("_", 2)[2] not in str(entry.details)

    # The next window's first request is recorded again.
    moved_clock.offset += timedelta(seconds=61)
    later = await client.get(ME, headers={**tenant.headers, **UA})
    entries = await _entries(runtime, tenant.org_id, USED)
    assert [e.request_id for e in entries] == [
        first.headers["x-request-id"],
        later.headers["x-request-id"],
    ]
    assert entries[1].details["new_client"] is False


async def test_a_new_client_is_audited_within_the_window(
    app: FastAPI, tenant: Tenant, runtime: Runtime, moved_clock: ShiftableClock
) -> None:
    """Another address or user agent is recorded within the window, once; a known one is not.
    (A new client waits an eighth of the window after the last stamp: 7.5 s of 60.)"""
    async with _client(app, "192.0.2.10") as home, _client(app, "203.0.113.99") as away:
        first = await home.get(ME, headers={**tenant.headers, **UA})
        assert (await home.get(ME, headers={**tenant.headers, **UA})).status_code == 200
        moved_clock.offset += timedelta(seconds=8)
        stranger = await away.get(ME, headers={**tenant.headers, "User-Agent": "curl/8"})
        for _ in range(2):
            assert (
                await away.get(ME, headers={**tenant.headers, "User-Agent": "curl/8"})
            ).is_success
            assert (await home.get(ME, headers={**tenant.headers, **UA})).is_success
        # Within 7.5 s of the last stamp a new client waits: no entry yet ...
        early = await home.get(ME, headers={**tenant.headers, "User-Agent": "other/2"})
        assert early.status_code == 200
        moved_clock.offset += timedelta(seconds=8)
        # ... and is recorded by its next request.
        other_agent = await home.get(ME, headers={**tenant.headers, "User-Agent": "other/2"})
    entries = await _entries(runtime, tenant.org_id, USED)
    assert [e.request_id for e in entries] == [
        first.headers["x-request-id"],
        stranger.headers["x-request-id"],
        other_agent.headers["x-request-id"],
    ]
    assert [str(e.ip) for e in entries] == ["192.0.2.10", "203.0.113.99", "192.0.2.10"]
    assert [e.user_agent for e in entries] == ["audit-tests/1.0", "curl/8", "other/2"]
    assert all(e.details["new_client"] is True for e in entries)


async def test_a_cached_keys_use_is_audited_with_its_stamp(
    app_client: AppClientFactory,
    make_tenant: TenantFactory,
    runtime: Runtime,
    moved_clock: ShiftableClock,
) -> None:
    """A key served from the principal cache stamps (and audits) there, once per window."""
    tenant = await make_tenant()
    client = await app_client(api_key_last_used_debounce_seconds=30, api_key_cache_seconds=300)
    assert (await client.get(ME, headers=tenant.headers)).status_code == 200
    moved_clock.offset += timedelta(seconds=31)
    cached = await client.get(ME, headers=tenant.headers)
    assert (await client.get(ME, headers=tenant.headers)).status_code == 200
    moved_clock.offset += timedelta(seconds=4)  # an eighth of the 30 s window
    new_agent = await client.get(ME, headers={**tenant.headers, **UA})
    assert (await client.get(ME, headers={**tenant.headers, **UA})).status_code == 200
    entries = await _entries(runtime, tenant.org_id, USED)
    assert [e.request_id for e in entries[1:]] == [
        cached.headers["x-request-id"],
        new_agent.headers["x-request-id"],
    ]
    assert entries[1].details["window_seconds"] == 30
    assert [e.details["new_client"] for e in entries] == [True, False, True]


async def test_a_service_keys_use_names_no_user(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        issued = await ApiKeyService(session, runtime.keyring, runtime.clock).issue(
            org_id=tenant.org_id,
            name="robot",
            description=None,
            scopes=["read"],
            expires_at=None,
            created_by_user_id=None,
            actor=Actor("system", "tests"),
        )
    headers = {"Authorization": f"Bearer {issued.plaintext}"}
    assert (await client.get(ME, headers=headers)).status_code == 200
    entries = [
        e
        for e in await _entries(runtime, tenant.org_id, USED)
        if e.actor_id == str(issued.record.id)
    ]
    assert [(e.actor_type, e.actor_user_id) for e in entries] == [("service", None)]


async def test_a_failed_request_leaves_neither_stamp_nor_entry(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    """The entry lives in the request's transaction: a refused change rolls both back."""
    refused = await client.post(
        "/api/v1/api-keys", json={"name": "", "scopes": ["nope"]}, headers=tenant.headers
    )
    assert refused.status_code == 422
    assert await _entries(runtime, tenant.org_id, USED) == []
    ok = await client.get(ME, headers=tenant.headers)
    [entry] = await _entries(runtime, tenant.org_id, USED)
    assert entry.request_id == ok.headers["x-request-id"]


async def test_a_refusal_carries_prefix_address_agent_and_reason(
    app: FastAPI, tenant: Tenant, runtime: Runtime
) -> None:
    prefix = tenant.key.split("_")[1]
    forged = f"sc_{prefix}_" + "B" * 43
    async with _client(app, "203.0.113.44") as c:
        response = await c.get(ME, headers={"Authorization": f"Bearer {forged}", **UA})
    assert_problem(response, 401, "invalid-credentials")
    [entry] = await _entries(runtime, tenant.org_id, "org:api_key:auth_failed")
    assert entry.details == {"reason": "secret_mismatch", "key_prefix": f"sc_{prefix}"}
    assert str(entry.ip) == "203.0.113.44"
    assert entry.user_agent == "audit-tests/1.0"
    assert entry.actor_type == "anonymous"
    assert "B" * 43 not in str(entry.details)


@pytest.fixture
def bounded(app: FastAPI) -> Iterator[None]:
    """The unattributed-refusal bounds, small and fresh (in memory) for one test."""
    original = app.state.unattributed_audit
    app.state.unattributed_audit = UnattributedAudit(
        None, per_address="2/minute", per_platform="3/minute"
    )
    yield
    app.state.unattributed_audit = original


def _platform_rows(admin_engine: Engine, request_ids: list[str]) -> list[Any]:
    with admin_engine.begin() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT tag, actor_type, details, ip, user_agent, request_id"
                    " FROM platform_audit_events WHERE request_id = ANY(:ids) ORDER BY seq"
                ),
                {"ids": request_ids},
            )
        )


async def test_unknown_keys_go_to_the_platform_log_within_bounds(
    app: FastAPI, admin_engine: Engine, bounded: None
) -> None:
    """A spray of made-up keys: two entries per address, three in all, every answer a 401."""
    request_ids: list[str] = []
    for address in ("198.51.100.1", "198.51.100.2"):
        async with _client(app, address) as c:
            for _ in range(4):
                token = f"sc_{uuid.uuid4().hex[:12]}_" + "C" * 43
                response = await c.get(ME, headers={"Authorization": f"Bearer {token}", **UA})
                assert_problem(response, 401, "invalid-credentials")
                request_ids.append(response.headers["x-request-id"])
    rows = _platform_rows(admin_engine, request_ids)
    assert [str(r.ip) for r in rows] == ["198.51.100.1", "198.51.100.1", "198.51.100.2"]
    for row in rows:
        assert row.tag == "platform:api_key:auth_failed"
        assert row.actor_type == "anonymous"
        assert row.details["reason"] == "unknown"
        assert row.details["key_prefix"].startswith("sc_")
        assert "C" * 43 not in str(row.details)
        assert row.user_agent == "audit-tests/1.0"


async def test_a_malformed_key_is_recorded_without_any_of_it(
    app: FastAPI, admin_engine: Engine, bounded: None
) -> None:
    secret_looking = "sc_NOTAPREFIX_" + "D" * 43
    async with _client(app, "198.51.100.9") as c:
        response = await c.get(ME, headers={"Authorization": f"Bearer {secret_looking}"})
    assert_problem(response, 401, "invalid-credentials")
    [row] = _platform_rows(admin_engine, [response.headers["x-request-id"]])
    assert row.details == {"reason": "malformed"}
    assert "D" * 10 not in str(row)
