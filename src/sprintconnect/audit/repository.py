"""SQL for the audit log."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, get_args, get_type_hints
from uuid import UUID

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Select,
    and_,
    func,
    insert,
    literal_column,
    not_,
    or_,
    select,
    text,
    tuple_,
    union,
)
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.audit.query import ActionFilter, AuditFilters
from sprintconnect.identity.principal import Actor
from sprintconnect.models import ApiKey, AuditEvent, Membership, PlatformAuditEvent, User
from sprintconnect.models.audit import AUDIT_DETAILS_FTS_SQL, AUDIT_FAILURE_SQL
from sprintconnect.models.audit_ledger import AuditLeaf

# Every kind of actor an entry may name (``Actor.type``): an ``actor_id`` filter without a type
# matches each, so that the actor index (type first) serves it.
ACTOR_TYPES: tuple[str, ...] = get_args(get_type_hints(Actor)["type"])
# Rows fetched per round trip while exporting (a server-side cursor: memory stays flat).
STREAM_BATCH = 2000
_FAILED: ColumnElement[bool] = literal_column(AUDIT_FAILURE_SQL, Boolean)
# The expression of the details' full-text index, and its configuration.
_DETAILS: ColumnElement[Any] = literal_column(AUDIT_DETAILS_FTS_SQL)
_SIMPLE: ColumnElement[Any] = literal_column("'simple'::regconfig")


def _words(q: str) -> ColumnElement[bool]:
    """Details that hold ``q``'s words (web-search syntax), as a plain condition."""
    return _DETAILS.op("@@")(func.websearch_to_tsquery(_SIMPLE, q))


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, values: dict[str, Any]) -> None:
        """Append an entry (its id, sequence number and time are filled in by defaults)."""
        await self.session.execute(insert(AuditEvent).values(**values))

    async def add_platform(self, values: dict[str, Any]) -> None:
        """Append a platform entry; a plain INSERT, since the application may not read back."""
        await self.session.execute(insert(PlatformAuditEvent).values(**values))

    async def recent(self, org_id: UUID, *, limit: int = 100) -> Sequence[AuditEvent]:
        stmt = (
            select(AuditEvent)
            .where(AuditEvent.org_id == org_id)
            .order_by(AuditEvent.seq.desc())
            .limit(limit)
        )
        return (await self.session.scalars(stmt)).all()

    # -- reading -------------------------------------------------------------------------------

    async def key_ids_of(self, org_id: UUID, user_id: UUID) -> list[str]:
        """The ids of the API keys ``user_id`` owns in the organization (revoked ones too)."""
        stmt = select(ApiKey.id).where(
            ApiKey.org_id == org_id, ApiKey.created_by_user_id == user_id
        )
        return [str(key_id) for key_id in (await self.session.scalars(stmt)).all()]

    def _where(
        self,
        org_id: UUID,
        filters: AuditFilters,
        user_keys: Sequence[str],
        *,
        details: ColumnElement[bool] | None = None,
    ) -> tuple[list[ColumnElement[bool]], list[ColumnElement[bool]]]:
        """The conditions every matching entry meets, and alternatives of which it meets one.

        Alternatives (the actor under each of its types, a user's keys, the places ``q`` may
        match) are kept apart so that a page can read each one in index order and merge them:
        as one OR, PostgreSQL would collect every match of every alternative and sort them.
        """
        e = AuditEvent
        conditions: list[ColumnElement[bool]] = [e.org_id == org_id]
        actors: list[ColumnElement[bool]] = []
        if filters.actor_id is not None:
            types = (filters.actor_type,) if filters.actor_type else ACTOR_TYPES
            actors = [and_(e.actor_type == t, e.actor_id == filters.actor_id) for t in types]
            if filters.actor_type in (None, "user"):
                actors += [and_(e.actor_type == "api_key", e.actor_id == k) for k in user_keys]
        elif filters.actor_type is not None:
            conditions.append(e.actor_type == filters.actor_type)
        if filters.action is not None:
            if filters.action.prefix:
                # As a range in ``text_pattern_ops`` order, so the tag index serves it whatever
                # plan PostgreSQL keeps for the statement.
                conditions.append(e.tag.op("~>=~")(filters.action.value))
                conditions.append(e.tag.op("~<~")(filters.action.upper))
            else:
                conditions.append(e.tag == filters.action.value)
        if filters.target_type is not None:
            conditions.append(e.target_type == filters.target_type)
        if filters.target_id is not None:
            conditions.append(e.target_id == filters.target_id)
        if filters.outcome == "failure":
            conditions.append(_FAILED)  # literal: the partial index's predicate
        elif filters.outcome == "success":
            conditions.append(not_(_FAILED))
        if filters.start is not None:
            conditions.append(e.occurred_at >= filters.start)
        if filters.end is not None:
            conditions.append(e.occurred_at < filters.end)
        searches = self._search(filters.q, details) if filters.q is not None else []
        if actors and searches:
            conditions.append(or_(*searches))
            return conditions, actors
        return conditions, actors or searches

    @staticmethod
    def _search(q: str, details: ColumnElement[bool] | None) -> list[ColumnElement[bool]]:
        """An id (entry, request, target, actor) equal to ``q``, or details with its words
        (``details``: how to find those, when not by the plain condition)."""
        e = AuditEvent
        matches = [
            e.request_id == q,
            e.target_id == q,
            *(and_(e.actor_type == t, e.actor_id == q) for t in ACTOR_TYPES),
            details if details is not None else _words(q),
        ]
        with contextlib.suppress(ValueError):
            matches.append(e.id == UUID(q))
        return matches

    def _filtered(
        self, org_id: UUID, filters: AuditFilters, user_keys: Sequence[str]
    ) -> Select[Any]:
        conditions, alternatives = self._where(org_id, filters, user_keys)
        if alternatives:
            conditions.append(or_(*alternatives))
        return select(AuditEvent).where(*conditions)

    def page_statement(
        self,
        org_id: UUID,
        filters: AuditFilters,
        user_keys: Sequence[str],
        *,
        after: tuple[datetime, int] | None,
        limit: int,
    ) -> Select[Any]:
        """Up to ``limit`` entries, newest first (by ``occurred_at``, then ``seq``).

        With alternatives, each one's first ``limit`` entries (one ordered index scan each),
        merged: the newest ``limit`` of them are the page.
        """
        e = AuditEvent
        details = None
        if filters.q is not None and replace(filters, q=None) == AuditFilters():
            # ``q`` alone: the newest details matches through the index (revision 0016).
            found = func.sc_audit_details_matches(
                filters.q, after[0] if after else None, after[1] if after else None, limit
            ).table_valued("id", "occurred_at", "seq")
            details = e.id.in_(select(found.c.id))
        conditions, alternatives = self._where(org_id, filters, user_keys, details=details)
        if after is not None:
            conditions.append(tuple_(e.occurred_at, e.seq) < tuple_(*after))
        newest = (e.occurred_at.desc(), e.seq.desc())
        if len(alternatives) <= 1:
            return select(e).where(*conditions, *alternatives).order_by(*newest).limit(limit)
        # Each branch reads only ``(occurred_at, seq)``, which every index ends in (index-only
        # scans); the page's entries are then fetched by ``seq`` (unique).
        branches = [
            select(e.occurred_at, e.seq)
            .where(*conditions, alternative)
            .order_by(*newest)
            .limit(limit)
            .subquery()
            for alternative in alternatives
        ]
        merged = union(*(select(b.c.occurred_at, b.c.seq) for b in branches)).subquery()
        page = (
            select(merged.c.seq)
            .order_by(merged.c.occurred_at.desc(), merged.c.seq.desc())
            .limit(limit)
            .subquery()
        )
        return select(e).join(page, e.seq == page.c.seq).where(e.org_id == org_id).order_by(*newest)

    async def page(
        self,
        org_id: UUID,
        filters: AuditFilters,
        user_keys: Sequence[str],
        *,
        after: tuple[datetime, int] | None,
        limit: int,
    ) -> Sequence[AuditEvent]:
        stmt = self.page_statement(org_id, filters, user_keys, after=after, limit=limit)
        events: Sequence[AuditEvent] = (await self.session.scalars(stmt)).all()
        return events

    async def snapshot(self) -> None:
        """Make the session's transaction one read-only snapshot (its first statement)."""
        await self.session.execute(
            text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        )

    async def stream(
        self, org_id: UUID, filters: AuditFilters, user_keys: Sequence[str]
    ) -> AsyncIterator[Mapping[str, Any]]:
        """Every matching entry's columns and ``leaf_index`` (null until sequenced), oldest
        first, through a server-side cursor."""
        e = AuditEvent
        stmt = (
            self._filtered(org_id, filters, user_keys)
            .with_only_columns(*AuditEvent.__table__.columns, AuditLeaf.leaf_index)
            .outerjoin(AuditLeaf, and_(AuditLeaf.org_id == e.org_id, AuditLeaf.event_id == e.id))
            .order_by(e.occurred_at, e.seq)
            .execution_options(yield_per=STREAM_BATCH)
        )
        result = await self.session.stream(stmt)
        async for row in result.mappings():
            yield dict(row)

    async def get(self, org_id: UUID, event_id: UUID) -> AuditEvent | None:
        stmt = select(AuditEvent).where(AuditEvent.org_id == org_id, AuditEvent.id == event_id)
        return (await self.session.scalars(stmt)).one_or_none()

    async def leaf_indexes(self, org_id: UUID, event_ids: Sequence[UUID]) -> dict[UUID, int]:
        """Each sequenced entry's leaf in the organization's Merkle tree (``audit_leaves``)."""
        if not event_ids:
            return {}
        stmt = select(AuditLeaf.event_id, AuditLeaf.leaf_index).where(
            AuditLeaf.org_id == org_id, AuditLeaf.event_id.in_(event_ids)
        )
        return {event_id: index for event_id, index in (await self.session.execute(stmt)).all()}

    async def display_names(
        self, org_id: UUID, user_ids: Sequence[UUID], key_ids: Sequence[UUID]
    ) -> dict[tuple[str, str], str]:
        """``(actor type, id)`` to something a person recognizes: a member's name or email,
        a key's name and prefix; one query each, only for the ids given."""
        names: dict[tuple[str, str], str] = {}
        if user_ids:
            stmt = (
                select(Membership.user_id, Membership.display_name, User.email)
                .join(User, User.id == Membership.user_id)
                .where(Membership.org_id == org_id, Membership.user_id.in_(user_ids))
            )
            for user_id, display_name, email in (await self.session.execute(stmt)).all():
                names["user", str(user_id)] = display_name or email
        if key_ids:
            key_stmt = select(ApiKey.id, ApiKey.name, ApiKey.prefix).where(
                ApiKey.org_id == org_id, ApiKey.id.in_(key_ids)
            )
            for key_id, name, prefix in (await self.session.execute(key_stmt)).all():
                names["api_key", str(key_id)] = f"{name} (sc_{prefix})"
        return names

    async def platform_page(
        self, *, before_seq: int | None, limit: int, action: ActionFilter | None
    ) -> Sequence[Any]:
        """A page of ``platform_audit_events``, newest first, through the SECURITY DEFINER
        function of revision 0016 (the application role cannot SELECT the table)."""
        rows = await self.session.execute(
            text("SELECT * FROM sc_platform_audit_page(:before, :limit, :tag, :prefix)"),
            {
                "before": before_seq,
                "limit": limit,
                "tag": action.value if action else None,
                "prefix": bool(action and action.prefix),
            },
        )
        return rows.mappings().all()
