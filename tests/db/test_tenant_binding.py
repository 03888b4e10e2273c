"""``db.tenancy.bind_tenant``: sent once per transaction and organization, and never skipped
when the binding could have changed (another organization, a savepoint rolled back)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, text

from sprintconnect.db.session import bind_when_used
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.runtime import Runtime

SETTING = text("SELECT current_setting('app.org_id', true)")


@contextmanager
def bindings_sent(runtime: Runtime) -> Iterator[list[str]]:
    """The ``set_config`` statements sent meanwhile through the app's engine."""
    sent: list[str] = []
    engine = runtime.db.engine.sync_engine

    def before(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "set_config" in statement:
            sent.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", before)


async def test_binding_the_bound_organization_again_sends_nothing(runtime: Runtime) -> None:
    org = uuid.uuid4()
    async with runtime.db.sessionmaker() as session:
        with bindings_sent(runtime) as sent:
            async with session.begin():
                await bind_tenant(session, org)
                await bind_tenant(session, org)
                assert await session.scalar(SETTING) == str(org)
            assert len(sent) == 1
            async with session.begin():  # a new transaction: bound anew
                await bind_tenant(session, org)
                assert await session.scalar(SETTING) == str(org)
            assert len(sent) == 2


async def test_a_transaction_bound_as_it_began_is_not_bound_twice(runtime: Runtime) -> None:
    org = uuid.uuid4()
    async with runtime.db.sessionmaker() as session:
        bind_when_used(session, org)
        assert await session.scalar(SETTING) == str(org)  # the begin hook bound it
        with bindings_sent(runtime) as sent:
            await bind_tenant(session, org)
        assert sent == []
        await session.rollback()


async def test_switching_organizations_and_back_binds_each_time(runtime: Runtime) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, first)
        await bind_tenant(session, second)
        assert await session.scalar(SETTING) == str(second)
        await bind_tenant(session, first)
        assert await session.scalar(SETTING) == str(first)


async def test_a_binding_rolled_back_with_its_savepoint_is_sent_again(runtime: Runtime) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    async with runtime.db.sessionmaker() as session, session.begin():
        await bind_tenant(session, first)
        savepoint = await session.begin_nested()
        await bind_tenant(session, second)
        await savepoint.rollback()  # the setting is back to ``first``
        assert await session.scalar(SETTING) == str(first)
        await bind_tenant(session, second)
        assert await session.scalar(SETTING) == str(second)
