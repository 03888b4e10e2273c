"""One session and one transaction per request, committed before the response is sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

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
