"""SQL of the token service: signing keys (platform), codes, refresh tokens, revocations.

Tenant tables are read under the bound tenant (RLS); what must be found before the tenant is
known goes through the migration's SECURITY DEFINER lookups, which reveal ids only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.models.token import (
    AuthorizationCode,
    RefreshToken,
    RevokedAccessToken,
    TokenSigningKey,
)

_KEYS_LOCK = "sprintconnect/token-signing-keys"


class SigningKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self) -> None:
        """Serialize key creation and rotation across processes (transaction-scoped)."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": _KEYS_LOCK}
        )

    async def live(self, retired_after: datetime) -> Sequence[TokenSigningKey]:
        """Keys not withdrawn, and not retired before ``retired_after``; oldest first."""
        stmt = (
            select(TokenSigningKey)
            .where(TokenSigningKey.withdrawn_at.is_(None))
            .where(
                or_(
                    TokenSigningKey.retires_at.is_(None),
                    TokenSigningKey.retires_at > retired_after,
                )
            )
            .order_by(TokenSigningKey.activates_at, TokenSigningKey.kid)
        )
        return (await self.session.scalars(stmt)).all()

    async def add(self, key: TokenSigningKey) -> None:
        self.session.add(key)
        await self.session.flush()

    async def retire(self, kid: str, at: datetime) -> None:
        await self.session.execute(
            update(TokenSigningKey)
            .where(TokenSigningKey.kid == kid, TokenSigningKey.retires_at.is_(None))
            .values(retires_at=at)
        )

    async def withdraw(self, kid: str, at: datetime) -> bool:
        result = await self.session.execute(
            update(TokenSigningKey)
            .where(TokenSigningKey.kid == kid, TokenSigningKey.withdrawn_at.is_(None))
            .values(withdrawn_at=at, retires_at=at)
        )
        return bool(getattr(result, "rowcount", 0))


class GrantRepository:
    """Codes and refresh tokens of the bound organization."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def locate_code(self, digest: bytes) -> tuple[UUID, UUID] | None:
        row = (
            await self.session.execute(
                text("SELECT code_id, org_id FROM sc_authorization_code_lookup(:d)"),
                {"d": digest},
            )
        ).first()
        return (row.code_id, row.org_id) if row else None

    async def locate_refresh(self, digest: bytes) -> tuple[UUID, UUID] | None:
        row = (
            await self.session.execute(
                text("SELECT token_id, org_id FROM sc_refresh_token_lookup(:d)"), {"d": digest}
            )
        ).first()
        return (row.token_id, row.org_id) if row else None

    async def code_for_update(self, org_id: UUID, code_id: UUID) -> AuthorizationCode | None:
        stmt = (
            select(AuthorizationCode)
            .where(AuthorizationCode.org_id == org_id, AuthorizationCode.id == code_id)
            .with_for_update()
        )
        return await self.session.scalar(stmt)

    async def refresh_for_update(self, org_id: UUID, token_id: UUID) -> RefreshToken | None:
        stmt = (
            select(RefreshToken)
            .where(RefreshToken.org_id == org_id, RefreshToken.id == token_id)
            .with_for_update()
        )
        return await self.session.scalar(stmt)

    async def add(self, row: AuthorizationCode | RefreshToken) -> None:
        self.session.add(row)
        await self.session.flush()

    async def revoke_family(self, org_id: UUID, family_id: UUID, at: datetime, reason: str) -> int:
        result = await self.session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.org_id == org_id,
                RefreshToken.family_id == family_id,
                RefreshToken.revoked_at.is_(None),
            )
            .values(revoked_at=at, revoked_reason=reason)
        )
        return int(getattr(result, "rowcount", 0))

    async def revoke_session(self, org_id: UUID, session_id: UUID, at: datetime) -> int:
        """Every live refresh token issued under a browser session (at its logout)."""
        result = await self.session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.org_id == org_id,
                RefreshToken.session_id == session_id,
                RefreshToken.revoked_at.is_(None),
            )
            .values(revoked_at=at, revoked_reason="session_ended")
        )
        return int(getattr(result, "rowcount", 0))


class RevocationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, org_id: UUID, jti: str, expires_at: datetime, now: datetime) -> None:
        await self.session.execute(
            insert(RevokedAccessToken)
            .values(jti=jti, org_id=org_id, expires_at=expires_at, revoked_at=now)
            .on_conflict_do_nothing(index_elements=["jti"])
        )

    async def live(self, now: datetime) -> list[tuple[str, datetime]]:
        """Every organization's revoked, unexpired ``jti`` (the definer function)."""
        rows = await self.session.execute(
            text("SELECT jti, expires_at FROM sc_revoked_access_tokens(:now)"), {"now": now}
        )
        return [(row.jti, row.expires_at) for row in rows]


async def is_revoked_here(session: AsyncSession, jti: str) -> bool:
    """Whether the bound organization revoked ``jti`` (introspection reads it exactly)."""
    stmt = select(RevokedAccessToken.jti).where(RevokedAccessToken.jti == jti)
    return (await session.scalar(stmt)) is not None
