"""Signing keys: sealed at rest, published before they sign, overlapping after rotation,
refused once withdrawn or past their tokens' lifetime; the periodic rotation step."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from sprintconnect.identity.tokens import keys
from sprintconnect.identity.tokens.repository import SigningKeyRepository
from sprintconnect.identity.tokens.state import token_state
from sprintconnect.models.token import TokenSigningKey
from sprintconnect.runtime import Runtime
from tests.conftest import ShiftableClock, Tenant, assert_problem
from tests.identity.tokens.support import (
    TokenApp,
    access_token,
    bearer,
    create_account,
    header_of,
)


@pytest.fixture(autouse=True)
async def _fresh_keys(runtime: Runtime, moved_clock: ShiftableClock) -> AsyncIterator[None]:
    """Keys these tests make in a moved future are withdrawn afterwards (the table is the
    platform's, shared by every test): the next token gets a key of the present."""
    yield
    moved_clock.offset = timedelta()
    async with runtime.db.sessionmaker() as session, session.begin():
        await session.execute(
            update(TokenSigningKey)
            .where(TokenSigningKey.withdrawn_at.is_(None))
            .values(withdrawn_at=runtime.clock.now(), retires_at=runtime.clock.now())
        )


async def _published(client: httpx.AsyncClient) -> set[str]:
    return {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}


async def test_rotation_overlap_and_withdrawal(
    token_app: TokenApp, tenant: Tenant, moved_clock: ShiftableClock
) -> None:
    client, rt = token_app.client, token_app.runtime
    state = token_state(token_app.app)
    account = await create_account(client, tenant, ["viewer"])
    old_token = await access_token(client, account)
    old_kid = header_of(old_token)["kid"]

    # A successor is published at once and signs only after the lead time.
    async with rt.db.sessionmaker() as session, session.begin():
        pending = await keys.rotate(session, rt.keyring, rt.clock.now())
    state.keys.forget()
    assert {old_kid, pending.kid} <= await _published(client)
    assert header_of(await access_token(client, account))["kid"] == old_kid

    moved_clock.offset += keys.PUBLISH_LEAD + timedelta(seconds=1)
    state.keys.forget()
    new_token = await access_token(client, account)
    assert header_of(new_token)["kid"] == pending.kid
    # The old key still verifies the tokens it signed (issued within their lifetime).
    moved_clock.offset -= keys.PUBLISH_LEAD + timedelta(seconds=1)
    assert (await client.get("/api/v1/me", headers=bearer(old_token))).status_code == 200
    moved_clock.offset += keys.PUBLISH_LEAD + timedelta(seconds=1)
    assert old_kid in await _published(client)

    # Past the overlap (retirement + token lifetime + leeway) the old key is gone.
    lifetime = timedelta(seconds=rt.settings.access_token_seconds)
    moved_clock.offset += lifetime + keys.LEEWAY + timedelta(seconds=1)
    state.keys.forget()
    assert old_kid not in await _published(client)

    # A withdrawn key is refused at once, even for a token that has not expired.
    fresh = await access_token(client, account)
    kid = header_of(fresh)["kid"]
    # Used once first: this process remembers the verified token (state.VerifiedTokens).
    assert (await client.get("/api/v1/me", headers=bearer(fresh))).status_code == 200
    async with rt.db.sessionmaker() as session, session.begin():
        assert await keys.withdraw(session, kid, rt.clock.now())
    state.keys.forget()
    assert_problem(await client.get("/api/v1/me", headers=bearer(fresh)), 401, "invalid-token")
    # The next token is signed by a new key (created on first use when none signs).
    assert header_of(await access_token(client, account))["kid"] != kid


async def test_private_keys_are_sealed_and_rotation_is_due_when_old(
    token_app: TokenApp, moved_clock: ShiftableClock
) -> None:
    rt = token_app.runtime
    async with rt.db.sessionmaker() as session, session.begin():
        await keys.ensure_key(session, rt.keyring, rt.clock.now())
        rows = (await session.scalars(select(TokenSigningKey))).all()
        assert rows
        for row in rows:
            assert b"PRIVATE" not in row.private_sealed
            assert "d" not in row.public_jwk
            assert keys.unseal(rt.keyring, row).as_dict(private=False)["x"] == row.public_jwk["x"]
        assert await keys.rotate_if_due(session, rt.keyring, rt.clock.now()) is None
    moved_clock.offset += keys.ROTATE_AFTER + timedelta(days=1)
    async with rt.db.sessionmaker() as session, session.begin():
        successor = await keys.rotate_if_due(session, rt.keyring, rt.clock.now())
        assert successor is not None
        assert successor.activates_at > rt.clock.now()  # published before it signs
        # A successor on its way: no second one.
        assert await keys.rotate_if_due(session, rt.keyring, rt.clock.now()) is None


async def test_periodic_task_schedules_a_successor(
    token_app: TokenApp, moved_clock: ShiftableClock
) -> None:
    from sprintconnect.identity.tokens.tasks import build_blueprint, rotate_keys
    from sprintconnect.jobs import context
    from sprintconnect.jobs.context import TaskServices

    rt = token_app.runtime
    assert "tokens.rotate_keys" in {t.split(":")[-1] for t in build_blueprint().tasks}
    previous = context._current
    context.install(TaskServices(runtime=rt, secrets=token_app.app.state.secret_store))
    try:
        await rotate_keys(timestamp=0)  # a key signs (made now if there was none)
        moved_clock.offset += keys.ROTATE_AFTER + timedelta(days=1)
        await rotate_keys(timestamp=0)
    finally:
        context._current = previous
    async with rt.db.sessionmaker() as session, session.begin():
        live = list(await SigningKeyRepository(session).live(rt.clock.now()))
    pending = [k for k in live if k.activates_at > rt.clock.now()]
    assert len(pending) == 1
    assert keys.signing_key(live, rt.clock.now()) is not None
