"""Binding a transaction to one tenant; row-level security does the rest."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

TENANT_SETTING = "app.org_id"


# The tenant this session's current transaction is known to be bound to, as
# ``(root transaction, org id)``: set by ``bind_tenant`` and by ``db.session``'s begin hook.
BOUND_INFO = "sprintconnect.tenant_bound"


def note_bound(session: Session, org_id: UUID) -> None:
    """Record that the session's current transaction is bound to ``org_id``.

    Inside a savepoint the binding can be rolled back with it, so there the record is dropped
    instead: the next ``bind_tenant`` sends the binding again.
    """
    if session.in_nested_transaction():
        session.info.pop(BOUND_INFO, None)
    else:
        session.info[BOUND_INFO] = (session.get_transaction(), org_id)


async def bind_tenant(session: AsyncSession, org_id: UUID) -> None:
    """Scope the current transaction to ``org_id`` (``SET LOCAL``: it ends with the transaction).

    Nothing is sent when the transaction is already bound to ``org_id`` (a request's
    transactions are bound as they begin, ``db.session.bind_when_used``).
    """
    sync = session.sync_session
    current = sync.get_transaction()
    if current is not None and sync.info.get(BOUND_INFO) == (current, org_id):
        return
    await session.execute(
        text("SELECT set_config(:name, :org, true)"), {"name": TENANT_SETTING, "org": str(org_id)}
    )
    note_bound(sync, org_id)
