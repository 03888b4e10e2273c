"""The in-process cache of verified keys: what drops an entry, and the bound on the rest."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import event, text

from sprintconnect.api_key.service import revoke_member_keys
from sprintconnect.authz.repository import AccessFacts
from sprintconnect.db.session import bind_when_used
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.identity.cache import PrincipalCache, VerifiedKey
from sprintconnect.identity.principal import Actor
from sprintconnect.runtime import Runtime
from tests.conftest import MemberFactory, ShiftableClock, Tenant, assert_problem

ME = "/api/v1/me"


async def _me(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await client.get(ME, headers=headers)


async def test_a_hot_key_is_served_from_the_cache(
    client: httpx.AsyncClient, app: FastAPI, tenant: Tenant
) -> None:
    cache: PrincipalCache = app.state.principal_cache
    assert cache.enabled
    assert (await _me(client, tenant.headers)).status_code == 200
    assert len(cache) >= 1
    again = await _me(client, tenant.headers)
    assert again.status_code == 200
    assert again.json()["api_key_id"] == str(tenant.key_id)


async def test_a_cached_key_revoked_through_the_api_is_refused_at_once(
    client: httpx.AsyncClient, app: FastAPI, tenant: Tenant, make_member: MemberFactory
) -> None:
    member = await make_member(tenant, ["viewer"], ["read"])
    assert (await _me(client, member.headers)).status_code == 200
    assert (await _me(client, member.headers)).status_code == 200  # now cached
    revoked = await client.post(f"/api/v1/api-keys/{member.key_id}/revoke", headers=tenant.headers)
    assert revoked.status_code == 200, revoked.text
    assert_problem(await _me(client, member.headers), 401, "credentials-revoked")


async def test_a_revocation_outside_any_request_of_this_process_applies_at_once(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory, runtime: Runtime
) -> None:
    """As the CLI or a job would revoke: in a session of its own, no HTTP request around it."""
    member = await make_member(tenant, ["viewer"], ["read"])
    assert (await _me(client, member.headers)).status_code == 200
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        revoked = await revoke_member_keys(
            session,
            tenant.org_id,
            member.user_id,
            now=runtime.clock.now(),
            actor=Actor("system"),
            revoked_by=None,
        )
    assert [key.id for key in revoked] == [member.key_id]
    assert_problem(await _me(client, member.headers), 401, "credentials-revoked")


async def test_a_role_removed_through_the_api_applies_on_the_next_request(
    client: httpx.AsyncClient, tenant: Tenant, make_member: MemberFactory
) -> None:
    member = await make_member(tenant, ["viewer", "analyst"], ["admin"])
    before = (await _me(client, member.headers)).json()
    assert "analyst" in before["roles"]
    removed = await client.delete(
        f"/api/v1/users/{member.user_id}/roles/analyst", headers=tenant.headers
    )
    assert removed.status_code in (200, 204), removed.text
    after = (await _me(client, member.headers)).json()
    assert "analyst" not in after["roles"]
    assert set(after["permissions"]) < set(before["permissions"])


async def test_a_revocation_by_another_process_applies_within_the_cache_bound(
    client: httpx.AsyncClient,
    app: FastAPI,
    tenant: Tenant,
    make_member: MemberFactory,
    runtime: Runtime,
    moved_clock: ShiftableClock,
) -> None:
    """Another replica's revocation reaches this process's cache only through its expiry."""
    member = await make_member(tenant, ["viewer"], ["read"])
    assert (await _me(client, member.headers)).status_code == 200
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        # Plain SQL: none of this process's hooks see it, as with a write by another process.
        await session.execute(
            text("UPDATE api_keys SET revoked_at = now() WHERE id = :id"), {"id": member.key_id}
        )
    cache: PrincipalCache = app.state.principal_cache
    assert (await _me(client, member.headers)).status_code == 200  # the documented window
    moved_clock.offset = cache.ttl
    assert_problem(await _me(client, member.headers), 401, "credentials-revoked")


def _entry(org_id: uuid.UUID, now: datetime, **changes: object) -> VerifiedKey:
    facts = AccessFacts(
        member=True,
        super_admin=False,
        assigned_roles=frozenset({"viewer"}),
        expanded_roles=frozenset({"viewer"}),
        custom_permissions=frozenset(),
        policy_version=0,
        time_zone="UTC",
    )
    values: dict[str, object] = {
        "key_id": uuid.uuid4(),
        "org_id": org_id,
        "scopes": frozenset({"read"}),
        "created_by_user_id": uuid.uuid4(),
        "expires_at": None,
        "last_used_at": None,
        "facts": facts,
        "checked_at": now,
    }
    values.update(changes)
    return VerifiedKey(**values)  # type: ignore[arg-type]


def test_an_answer_read_before_a_drop_is_not_put_back() -> None:
    cache = PrincipalCache(5)
    now = datetime.now(UTC)
    org = uuid.uuid4()
    generation = cache.generation()  # a request starts reading the key's rows...
    cache.drop({str(org)})  # ...another commits a change to them and drops the org...
    cache.put(b"digest", _entry(org, now), generation)  # ...the older answer arrives
    assert cache.get(b"digest", now) is None
    cache.put(b"digest", _entry(org, now), cache.generation())
    assert cache.get(b"digest", now) is not None


def test_entries_end_with_their_age_or_their_key() -> None:
    cache = PrincipalCache(5)
    now = datetime.now(UTC)
    org = uuid.uuid4()
    cache.put(b"old", _entry(org, now - timedelta(seconds=5)), cache.generation())
    cache.put(b"expiring", _entry(org, now, expires_at=now), cache.generation())
    cache.put(b"fresh", _entry(org, now), cache.generation())
    assert cache.get(b"old", now) is None
    assert cache.get(b"expiring", now) is None
    assert cache.get(b"fresh", now) is not None
    cache.drop({str(uuid.uuid4())})  # another organization's change
    assert cache.get(b"fresh", now) is not None
    cache.drop({"*"})  # a platform operator's change
    assert cache.get(b"fresh", now) is None


def test_the_cache_is_bounded_and_can_be_switched_off() -> None:
    now = datetime.now(UTC)
    small = PrincipalCache(5, max_entries=2)
    for n in range(3):
        small.put(bytes([n]), _entry(uuid.uuid4(), now), small.generation())
    assert len(small) == 2
    assert small.get(bytes([0]), now) is None
    off = PrincipalCache(0)
    off.put(b"x", _entry(uuid.uuid4(), now), off.generation())
    assert not off.enabled
    assert len(off) == 0


async def test_a_cached_me_takes_no_database_connection(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    """``/me`` answers from the principal: once the key is cached, not even a pool checkout."""
    checkouts: list[object] = []

    def count(*_: object) -> None:
        checkouts.append(object())

    pool = runtime.db.engine.sync_engine.pool
    assert (await _me(client, tenant.headers)).status_code == 200  # checks and caches the key
    event.listen(pool, "checkout", count)
    try:
        answer = await _me(client, tenant.headers)
    finally:
        event.remove(pool, "checkout", count)
    assert answer.status_code == 200
    assert answer.json()["org_slug"] == tenant.slug
    assert checkouts == []


async def test_a_renamed_organization_shows_on_the_next_me(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    assert (await _me(client, tenant.headers)).status_code == 200  # cached
    renamed = await client.patch(
        "/api/v1/organization", json={"name": "Renamed Org"}, headers=tenant.headers
    )
    assert renamed.status_code == 200, renamed.text
    assert (await _me(client, tenant.headers)).json()["org_name"] == "Renamed Org"


async def test_bind_when_used_binds_every_transaction_the_session_begins(
    runtime: Runtime, tenant: Tenant
) -> None:
    """A cached key binds lazily (``db.session.bind_when_used``): the first statement of each
    transaction runs bound, including a transaction begun after a commit mid-request (what
    ``release_connection`` does before calling out)."""
    setting = text("SELECT current_setting('app.org_id', true)")
    async with runtime.db.sessionmaker() as session:
        bind_when_used(session, tenant.org_id)
        assert await session.scalar(setting) == str(tenant.org_id)
        await session.commit()
        assert await session.scalar(setting) == str(tenant.org_id)
        await session.rollback()
    async with runtime.db.sessionmaker() as session:  # a pooled connection, binding gone
        assert await session.scalar(setting) in (None, "")


async def test_a_hot_key_is_checked_again_in_the_background_before_it_expires(
    client: httpx.AsyncClient, app: FastAPI, tenant: Tenant, moved_clock: ShiftableClock
) -> None:
    """Half a TTL on, a request is still served from the cache and starts a re-check off the
    request path; once it passes, the entry counts from it, so the key never expires while used."""
    cache: PrincipalCache = app.state.principal_cache
    assert (await _me(client, tenant.headers)).status_code == 200
    (digest,) = [d for d, e in cache._entries.items() if e.key_id == tenant.key_id]
    first = cache._entries[digest].checked_at
    moved_clock.offset += cache.ttl * 0.6
    assert (await _me(client, tenant.headers)).status_code == 200
    await cache.settled()
    assert cache._entries[digest].checked_at > first
    moved_clock.offset += cache.ttl * 0.6  # past the first check's TTL, within the second's
    assert (await _me(client, tenant.headers)).status_code == 200
    assert cache._entries[digest].checked_at > first


async def test_a_background_check_that_finds_the_key_revoked_drops_it(
    client: httpx.AsyncClient,
    app: FastAPI,
    runtime: Runtime,
    tenant: Tenant,
    make_member: MemberFactory,
    moved_clock: ShiftableClock,
) -> None:
    """Revoked where this process cannot see it (another replica, the CLI): the re-check
    drops the entry, and the next request is refused before the TTL would have ended."""
    cache: PrincipalCache = app.state.principal_cache
    member = await make_member(tenant, ["viewer"], ["read"])
    assert (await _me(client, member.headers)).status_code == 200
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, tenant.org_id)
        await session.execute(
            text("UPDATE api_keys SET revoked_at = now() WHERE id = :id"), {"id": member.key_id}
        )
    moved_clock.offset += cache.ttl * 0.6
    assert (await _me(client, member.headers)).status_code == 200  # served, re-check started
    await cache.settled()
    assert all(entry.key_id != member.key_id for entry in cache._entries.values())
    assert_problem(await _me(client, member.headers), 401, "credentials-revoked")
