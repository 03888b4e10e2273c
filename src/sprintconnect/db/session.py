"""One session and one transaction per request, committed before the response is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request
from psycopg import AsyncConnection
from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from sprintconnect.db.tenancy import TENANT_SETTING, bind_tenant, note_bound
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


TENANT_INFO = "sprintconnect.tenant"


def bind_when_used(session: AsyncSession, org_id: UUID) -> None:
    """Bind ``org_id`` to each transaction the session begins from now on, as it begins.

    Nothing is sent now: a request that never touches the database (``/api/v1/me`` answered
    from the key cache) takes no pooled connection at all. When the session does begin a
    transaction, ``_bind_on_begin`` sends the ``SET LOCAL`` (``set_config(..., true)``)
    together with psycopg's ``BEGIN`` in one pipelined round trip, before any statement of the
    transaction, and again for every later transaction of the session (after
    ``release_connection``, say).
    """
    session.info[TENANT_INFO] = org_id


async def bind_from_now(session: AsyncSession, org_id: UUID) -> None:
    """``bind_when_used``, and bind the transaction already open as well: one that a lookup
    made before the tenant was known (a SECURITY DEFINER function) began unbound."""
    bind_when_used(session, org_id)
    if session.in_transaction():
        await bind_tenant(session, org_id)


async def _bind_driver(driver: Any, org_id: UUID) -> None:
    if isinstance(driver, AsyncConnection) and (
        driver.info.transaction_status == TransactionStatus.IDLE
    ):
        async with driver.pipeline():  # BEGIN and the binding leave together
            await driver.execute("SELECT set_config(%s, %s, true)", (TENANT_SETTING, str(org_id)))
        return
    await driver.execute("SELECT set_config(%s, %s, true)", (TENANT_SETTING, str(org_id)))


@event.listens_for(Session, "after_begin")
def _bind_on_begin(session: Session, transaction: Any, connection: Connection) -> None:
    org_id = session.info.get(TENANT_INFO)
    if org_id is None:
        return
    adapted: Any = connection.connection.dbapi_connection
    adapted.run_async(lambda driver: _bind_driver(driver, org_id))
    note_bound(session, org_id)


async def release_connection(session: AsyncSession) -> None:
    """End the request's transaction now, so that its pooled connection goes back to the pool.

    Call it after reading what the request needs and before any outbound I/O (a remote party
    can take as long as its deadline; a connection held meanwhile is one that every other
    tenant waits for). What the request wrote so far (authentication bookkeeping) is committed.
    The tenant binding is ``SET LOCAL``, so it ends here too: the session's next transaction is
    bound again as it begins when the request bound it with ``bind_when_used`` (authentication
    does); otherwise call ``db.tenancy.bind_tenant`` before touching a tenant table.
    Loaded objects stay readable (``expire_on_commit=False``). See
    docs/decisions/0005-outbound-io-and-db-connections.md.
    """
    await session.commit()


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
# scope="function": the commit runs when the endpoint returns, before the answer goes out,
# so a failed commit is an error answer, never a lost write behind a 2xx.
DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]
