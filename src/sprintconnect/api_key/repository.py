"""SQL for API keys; every statement runs under the bound tenant (RLS)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import exists, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.models import ApiKey, Membership

# The stamp of a key's use, and its recent clients (newest first, de-duplicated, bounded).
_TOUCH_USE = text(
    "UPDATE api_keys SET last_used_at = :now, recent_clients = "
    "(array_prepend(CAST(:client AS text), array_remove(recent_clients, CAST(:client AS text))))"
    "[1:CAST(:keep AS integer)] "
    "WHERE id = :id AND (last_used_at IS NULL OR last_used_at < :cutoff "
    "OR (NOT (CAST(:client AS text) = ANY (recent_clients)) AND last_used_at < :new_cutoff))"
)


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def locate(self, prefix: str) -> tuple[UUID, UUID] | None:
        """(key id, org id) for a prefix, across tenants, through the definer function."""
        row = (
            await self.session.execute(
                text("SELECT key_id, org_id FROM sc_api_key_lookup(:prefix)"), {"prefix": prefix}
            )
        ).first()
        return (row.key_id, row.org_id) if row else None

    async def get(self, org_id: UUID, key_id: UUID) -> ApiKey | None:
        stmt = select(ApiKey).where(ApiKey.org_id == org_id, ApiKey.id == key_id)
        return await self.session.scalar(stmt)

    async def get_with_owner_membership(
        self, org_id: UUID, key_id: UUID
    ) -> tuple[ApiKey, bool] | None:
        """A key and whether its owner is a member of its organization, in one round trip."""
        member = exists().where(
            Membership.org_id == ApiKey.org_id, Membership.user_id == ApiKey.created_by_user_id
        )
        stmt = select(ApiKey, member).where(ApiKey.org_id == org_id, ApiKey.id == key_id)
        row = (await self.session.execute(stmt)).first()
        return (row[0], bool(row[1])) if row else None

    async def live_of_owner(self, org_id: UUID, user_id: UUID) -> Sequence[ApiKey]:
        """Keys ``user_id`` owns in the organization that are not revoked (expired included)."""
        stmt = (
            select(ApiKey)
            .where(
                ApiKey.org_id == org_id,
                ApiKey.created_by_user_id == user_id,
                ApiKey.revoked_at.is_(None),
            )
            .order_by(ApiKey.created_at, ApiKey.id)
            .with_for_update()
        )
        return (await self.session.scalars(stmt)).all()

    async def page(
        self, org_id: UUID, *, after: tuple[datetime, UUID] | None, limit: int
    ) -> Sequence[ApiKey]:
        stmt = select(ApiKey).where(ApiKey.org_id == org_id)
        if after is not None:
            stmt = stmt.where(tuple_(ApiKey.created_at, ApiKey.id) < tuple_(*after))
        stmt = stmt.order_by(ApiKey.created_at.desc(), ApiKey.id.desc()).limit(limit)
        return (await self.session.scalars(stmt)).all()

    async def add(self, key: ApiKey) -> ApiKey:
        self.session.add(key)
        await self.session.flush()
        await self.session.refresh(key)
        return key

    async def touch_last_used(self, key_id: UUID, now: datetime, debounce: timedelta) -> None:
        """Record use at most once per ``debounce`` so hot keys do not write on every request."""
        await self.session.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id)
            .where((ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < now - debounce))
            .values(last_used_at=now)
        )

    async def touch_use(
        self,
        key_id: UUID,
        now: datetime,
        debounce: timedelta,
        client: str,
        *,
        keep: int,
        gap: timedelta,
    ) -> bool:
        """Stamp the key's use when its window has passed, or when ``client`` is not among
        its recent clients and ``gap`` has passed since the last stamp (it then heads them,
        ``keep`` at most); whether this call did: of concurrent requests, in any process,
        one wins."""
        params = {
            "id": key_id,
            "now": now,
            "cutoff": now - debounce,
            "new_cutoff": now - gap,
            "client": client,
            "keep": keep,
        }
        result = await self.session.execute(_TOUCH_USE, params)
        return bool(getattr(result, "rowcount", 0))
