"""One transaction as the owner role, for operator commands the application role may not run.

The application role cannot change what makes a platform operator (``users.is_super_admin``);
the ``sprintconnect admin`` commands that do so open this short-lived owner connection instead
of the application's pool.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from sprintconnect.db.engine import Database


@asynccontextmanager
async def owner_transaction(db: Database) -> AsyncIterator[AsyncSession]:
    """A session in one transaction as the owner; it commits when the block ends cleanly."""
    engine = create_async_engine(db.owner_url, poolclass=NullPool)
    try:
        info = dict(db.session_info)  # audit entries written here are masked alike
        async with (
            AsyncSession(engine, expire_on_commit=False, info=info) as session,
            session.begin(),
        ):
            yield session
    finally:
        await engine.dispose()
