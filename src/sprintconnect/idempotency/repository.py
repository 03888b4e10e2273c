"""SQL for idempotency keys; every statement runs under the bound tenant (RLS)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.models import IdempotencyKey

PURGE_BATCH = 100

# A claim rewrites every column of the row it takes over: the previous answer is gone.
_CLAIMED_COLUMNS = (
    "claim_id",
    "method",
    "path",
    "body_sha256",
    "created_at",
    "expires_at",
    "locked_until",
    "completed_at",
    "status_code",
    "response_headers",
    "response_body",
)


class IdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, record: IdempotencyKey, now: datetime) -> bool:
        """Insert ``record`` as in progress; True when this call now holds the key.

        A conflicting row is taken over only when it has expired, or when it is still in
        progress past its lease (its request died without releasing it). Otherwise the row
        stays as it is, locked until this transaction ends, and the caller reads it.
        """
        values: dict[str, Any] = {
            column.key: getattr(record, column.key) for column in IdempotencyKey.__table__.columns
        }
        proposed = insert(IdempotencyKey).values(**values)
        current = IdempotencyKey.__table__.c
        stmt = proposed.on_conflict_do_update(
            constraint="pk_idempotency_keys",
            set_={name: proposed.excluded[name] for name in _CLAIMED_COLUMNS},
            where=(current.expires_at <= now)
            | (current.status_code.is_(None) & (current.locked_until <= now)),
        ).returning(current.claim_id)
        claimed: UUID | None = await self.session.scalar(stmt)
        return claimed == record.claim_id

    async def get(self, org_id: UUID, caller_id: UUID, key: str) -> IdempotencyKey | None:
        stmt = select(IdempotencyKey).where(
            IdempotencyKey.org_id == org_id,
            IdempotencyKey.caller_id == caller_id,
            IdempotencyKey.key == key,
        )
        return await self.session.scalar(stmt.execution_options(populate_existing=True))

    async def complete(
        self,
        org_id: UUID,
        caller_id: UUID,
        key: str,
        claim_id: UUID,
        *,
        status_code: int,
        headers: list[list[str]],
        body: bytes,
        now: datetime,
    ) -> bool:
        """Store the answer of a claim that is still ours; False when it was taken over."""
        result = await self.session.execute(
            update(IdempotencyKey)
            .where(
                IdempotencyKey.org_id == org_id,
                IdempotencyKey.caller_id == caller_id,
                IdempotencyKey.key == key,
                IdempotencyKey.claim_id == claim_id,
            )
            .values(
                status_code=status_code,
                response_headers=headers,
                response_body=body,
                completed_at=now,
            )
            .returning(IdempotencyKey.claim_id)
        )
        return result.first() is not None

    async def release(self, org_id: UUID, caller_id: UUID, key: str, claim_id: UUID) -> None:
        """Forget a claim that is still ours, so that a retry runs the request again."""
        await self.session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.org_id == org_id,
                IdempotencyKey.caller_id == caller_id,
                IdempotencyKey.key == key,
                IdempotencyKey.claim_id == claim_id,
                IdempotencyKey.status_code.is_(None),
            )
        )

    async def purge_expired(self, org_id: UUID, now: datetime, *, limit: int = PURGE_BATCH) -> None:
        """Delete up to ``limit`` expired keys of the organization; rows in use are skipped."""
        pk = (IdempotencyKey.org_id, IdempotencyKey.caller_id, IdempotencyKey.key)
        doomed = (
            select(*pk)
            .where(IdempotencyKey.org_id == org_id, IdempotencyKey.expires_at <= now)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        await self.session.execute(delete(IdempotencyKey).where(tuple_(*pk).in_(doomed)))
