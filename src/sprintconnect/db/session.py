"""One session and one transaction per request, committed before the response is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request
from psycopg import AsyncConnection
from psycopg.pq import TransactionStatus
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.db.tenancy import TENANT_SETTING, bind_tenant
from sprintconnect.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with get_runtime(request).db.sessionmaker() as session:
        try:
            yield session
        except BaseException:  # cancellation included: roll back, and re-raise it as it is
            await session.rollback()
            raise
        else:
            await session.commit()


async def begin_bound(session: AsyncSession, org_id: UUID) -> None:
    """``bind_tenant`` as the session's first statement, sent with its ``BEGIN`` at once.

    psycopg opens a transaction with a ``BEGIN`` of its own round trip before the first
    statement; in a pipeline both go out together and one round trip does. The binding is the
    same ``SET LOCAL`` (``set_config(..., true)``). Anywhere but at the start of a transaction,
    it is ``bind_tenant`` itself.
    """
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    if not isinstance(driver, AsyncConnection) or (
        driver.info.transaction_status != TransactionStatus.IDLE
    ):
        await bind_tenant(session, org_id)
        return
    async with driver.pipeline():
        await driver.execute("SELECT set_config(%s, %s, true)", (TENANT_SETTING, str(org_id)))


async def release_connection(session: AsyncSession) -> None:
    """End the request's transaction now, so that its pooled connection goes back to the pool.

    Call it after reading what the request needs and before any outbound I/O (a remote party
    can take as long as its deadline; a connection held meanwhile is one that every other
    tenant waits for). What the request wrote so far (authentication bookkeeping) is committed.
    The tenant binding is ``SET LOCAL``, so it ends here too: a later write must run in a new
    transaction that calls ``db.tenancy.bind_tenant`` again before touching a tenant table.
    Loaded objects stay readable (``expire_on_commit=False``). See
    docs/decisions/0005-outbound-io-and-db-connections.md.
    """
    await session.commit()


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
# scope="function": the commit runs when the endpoint returns, before the answer goes out,
# so a failed commit is an error answer, never a lost write behind a 2xx.
DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]
