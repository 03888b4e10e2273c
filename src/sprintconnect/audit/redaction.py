"""An organization's sensitive fields, read once per transaction, as a ``Masker``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.kit.sensitive import REDACTION_INFO_KEY, Masker
from sprintconnect.organization.repository import OrganizationRepository

_CACHE = "sprintconnect.audit.sensitive_fields"


async def masker_for(session: AsyncSession, org_id: UUID) -> Masker:
    """What masks ``org_id``'s audit details: its fields, under its key.

    Read once per transaction (one round trip for the first entry of a transaction, none
    after); ``forget`` drops it when the transaction changes the fields.
    """
    info = session.sync_session.info
    transaction = session.sync_session.get_transaction()
    cached: tuple[Any, dict[UUID, list[str]]] | None = info.get(_CACHE)
    if cached is None or cached[0] is not transaction:
        cached = (transaction, {})
        info[_CACHE] = cached
    fields = cached[1].get(org_id)
    if fields is None:
        fields = await OrganizationRepository(session).audit_sensitive_fields(org_id)
        cached[1][org_id] = fields
    return Masker.for_org(fields, info.get(REDACTION_INFO_KEY), org_id)


def masker_with(session: AsyncSession, org_id: UUID, fields: list[str]) -> Masker:
    """A ``Masker`` for fields the caller read a moment ago (the gateway holds its
    organization, read at most ``SPRINTCONNECT_GATEWAY_TOOLSET_CACHE_SECONDS`` ago), sparing
    a query per entry."""
    return Masker.for_org(fields, session.sync_session.info.get(REDACTION_INFO_KEY), org_id)


def forget(session: AsyncSession) -> None:
    """The transaction changed an organization's sensitive fields: read them again."""
    session.sync_session.info.pop(_CACHE, None)
