"""Streaming an export: one read-only snapshot, a server-side cursor, flat memory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sprintconnect.audit.export import ExportWriter, entry_record
from sprintconnect.audit.ledger.service import evidence_for_range
from sprintconnect.audit.query import AuditFilters
from sprintconnect.audit.repository import AuditRepository
from sprintconnect.db.tenancy import bind_tenant


async def evidence_for(
    session: AsyncSession, org_id: UUID, first_leaf: int | None, last_leaf: int | None
) -> dict[str, Any] | None:
    """The latest signed checkpoint and the proofs that tie the exported leaves to it (the
    ledger's ``evidence_for_range``); none when no exported entry is sequenced yet."""
    if first_leaf is None or last_leaf is None:
        return None
    return await evidence_for_range(session, org_id, first_leaf, last_leaf)


async def export_chunks(
    sessionmaker: async_sessionmaker[AsyncSession],
    org_id: UUID,
    filters: AuditFilters,
    user_keys: Sequence[str],
    writer: ExportWriter,
    header: dict[str, Any],
) -> AsyncIterator[str]:
    """The export's text, in order; its own transaction, held while the client reads."""
    async with sessionmaker() as session, session.begin():
        repo = AuditRepository(session)
        await repo.snapshot()
        await bind_tenant(session, org_id)
        yield writer.header(header)
        first: int | None = None
        last: int | None = None
        async for row in repo.stream(org_id, filters, user_keys):
            leaf = row.get("leaf_index")
            if isinstance(leaf, int):
                first = leaf if first is None else min(first, leaf)
                last = leaf if last is None else max(last, leaf)
            yield writer.entry(entry_record(row, leaf))
        yield writer.end(await evidence_for(session, org_id, first, last))
