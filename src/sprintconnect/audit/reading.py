"""Reading the audit log: pages, one entry, and the shapes the API answers with."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.audit.query import ActionFilter, AuditFilters, outcome_of
from sprintconnect.audit.repository import AuditRepository
from sprintconnect.audit.schemas import AuditActor, AuditEntry, AuditTarget, PlatformAuditEntry
from sprintconnect.errors import InvalidCursor, NotFound
from sprintconnect.kit.input import DATETIME_MAX, DATETIME_MIN
from sprintconnect.kit.pagination import Page, decode_key, encode_key
from sprintconnect.models import AuditEvent

BIGINT_MAX = 2**63 - 1
KEY_ACTORS = frozenset({"api_key", "service"})


class AuditEventNotFound(NotFound):
    slug = "audit-event-not-found"
    title = "Audit entry not found"


def _as_uuid(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


def time_cursor(cursor: str) -> tuple[datetime, int]:
    """The ``(occurred_at, seq)`` of the last entry of the previous page."""
    at, seq = decode_key(cursor, 2)
    if not isinstance(at, str) or not isinstance(seq, int) or isinstance(seq, bool):
        raise InvalidCursor()
    try:
        when = datetime.fromisoformat(at)
    except ValueError as exc:
        raise InvalidCursor() from exc
    if when.tzinfo is None or not DATETIME_MIN <= when <= DATETIME_MAX or not 0 < seq <= BIGINT_MAX:
        raise InvalidCursor()
    return when, seq


def entry_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """What an entry shows, from its stored columns."""
    details = row.get("details") or {}
    target_type = row.get("target_type")
    ip = row.get("ip")
    return {
        "id": row["id"],
        "seq": row["seq"],
        "occurred_at": row["occurred_at"],
        "action": row["tag"],
        "actor": AuditActor(
            type=row["actor_type"],
            id=row.get("actor_id"),
            user_id=row.get("actor_user_id"),
            super_admin=bool(row.get("actor_super_admin")),
        ),
        "target": AuditTarget(type=target_type, id=row.get("target_id")) if target_type else None,
        "outcome": outcome_of(row["tag"], details),
        "request_id": row.get("request_id"),
        "ip": str(ip) if ip is not None else None,
        "user_agent": row.get("user_agent"),
        "details": details,
    }


def _columns(event: AuditEvent) -> dict[str, Any]:
    return {column.key: getattr(event, column.key) for column in AuditEvent.__table__.columns}


class AuditReader:
    """The audit log of one organization, as its API shows it."""

    def __init__(self, session: AsyncSession, org_id: UUID) -> None:
        self.org_id = org_id
        self.repo = AuditRepository(session)

    async def user_keys(self, filters: AuditFilters) -> list[str]:
        """The keys whose entries count as the filtered user's own (see ``audit.query``)."""
        user_id = _as_uuid(filters.actor_id)
        if user_id is None or filters.actor_type not in (None, "user"):
            return []
        return await self.repo.key_ids_of(self.org_id, user_id)

    async def page(
        self, filters: AuditFilters, *, cursor: str | None, limit: int
    ) -> Page[AuditEntry]:
        after = time_cursor(cursor) if cursor is not None else None
        keys = await self.user_keys(filters)
        rows = await self.repo.page(self.org_id, filters, keys, after=after, limit=limit + 1)
        shown = list(rows[:limit])
        more = len(rows) > limit and shown
        next_cursor = encode_key(shown[-1].occurred_at, shown[-1].seq) if more else None
        return Page(items=await self.entries(shown), next_cursor=next_cursor)

    async def get(self, event_id: UUID) -> AuditEntry:
        event = await self.repo.get(self.org_id, event_id)
        if event is None:
            raise AuditEventNotFound(f"No audit entry has the id {event_id} here.")
        (entry,) = await self.entries([event])
        return entry

    async def entries(self, events: Sequence[AuditEvent]) -> list[AuditEntry]:
        names = await self.names(events)
        leaves = await self.repo.leaf_indexes(self.org_id, [e.id for e in events])
        shown = []
        for event in events:
            fields = entry_fields(_columns(event))
            actor: AuditActor = fields["actor"]
            actor.display = names.get((_kind(actor.type), actor.id or ""))
            shown.append(AuditEntry(**fields, leaf_index=leaves.get(event.id)))
        return shown

    async def names(self, events: Iterable[AuditEvent]) -> dict[tuple[str, str], str]:
        users: set[UUID] = set()
        keys: set[UUID] = set()
        for event in events:
            actor_id = _as_uuid(event.actor_id)
            if actor_id is None:
                continue
            if event.actor_type == "user":
                users.add(actor_id)
            elif event.actor_type in KEY_ACTORS:
                keys.add(actor_id)
        return await self.repo.display_names(self.org_id, sorted(users), sorted(keys))


def _kind(actor_type: str) -> str:
    return "api_key" if actor_type in KEY_ACTORS else actor_type


async def platform_page(
    session: AsyncSession, *, action: ActionFilter | None, cursor: str | None, limit: int
) -> Page[PlatformAuditEntry]:
    """A page of the platform's own audit stream, newest first (by ``seq``)."""
    before: int | None = None
    if cursor is not None:
        (value,) = decode_key(cursor, 1)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= BIGINT_MAX:
            raise InvalidCursor()
        before = value
    rows = await AuditRepository(session).platform_page(
        before_seq=before, limit=limit + 1, action=action
    )
    shown = list(rows[:limit])
    next_cursor = encode_key(shown[-1]["seq"]) if len(rows) > limit and shown else None
    return Page(
        items=[PlatformAuditEntry(**entry_fields(row)) for row in shown],
        next_cursor=next_cursor,
    )
