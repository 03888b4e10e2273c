"""Every SQL statement of sign-in: providers, login states, sessions, identities.

Lookups before the tenant is known go through SECURITY DEFINER functions (migration 0021);
everything else runs bound to the organization, under row-level security.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.models.sign_in import BrowserSession, IdentityProvider, LoginState, UserIdentity


class ProviderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, org_id: UUID) -> IdentityProvider | None:
        return await self.session.scalar(
            select(IdentityProvider).where(IdentityProvider.org_id == org_id)
        )

    async def add(self, provider: IdentityProvider) -> IdentityProvider:
        self.session.add(provider)
        await self.session.flush()
        await self.session.refresh(provider)
        return provider

    async def save(self, provider: IdentityProvider) -> IdentityProvider:
        await self.session.flush()
        await self.session.refresh(provider)
        return provider

    async def remove(self, org_id: UUID) -> None:
        await self.session.execute(
            delete(IdentityProvider).where(IdentityProvider.org_id == org_id)
        )

    async def sign_in_org(self, slug: str) -> tuple[UUID, bool | None] | None:
        """The organization of ``slug`` and whether its provider is enabled (None: none)."""
        row = (
            await self.session.execute(text("SELECT * FROM sc_sign_in_org(:slug)"), {"slug": slug})
        ).first()
        return (row.org_id, row.provider_enabled) if row is not None else None

    async def by_issuer(self, issuer: str) -> list[tuple[UUID, str, str | None]]:
        """(org, client id, access-token audience) of every enabled provider of ``issuer``."""
        rows = await self.session.execute(
            text("SELECT * FROM sc_providers_by_issuer(:issuer)"), {"issuer": issuer}
        )
        return [(r.org_id, r.client_id, r.access_token_audience) for r in rows]


class LoginStateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, state: LoginState) -> None:
        self.session.add(state)
        await self.session.flush()

    async def prune(self, org_id: UUID, now: datetime) -> None:
        await self.session.execute(
            delete(LoginState).where(LoginState.org_id == org_id, LoginState.expires_at < now)
        )

    async def take(self, digest: bytes) -> dict[str, Any] | None:
        """The state with ``digest``, deleted as it is read: a second take finds nothing."""
        row = (
            await self.session.execute(
                text("SELECT * FROM sc_login_state_take(:digest)"), {"digest": digest}
            )
        ).first()
        return dict(row._mapping) if row is not None else None


class SessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, record: BrowserSession) -> None:
        self.session.add(record)
        await self.session.flush()

    async def lookup(self, digest: bytes) -> dict[str, Any] | None:
        row = (
            await self.session.execute(
                text("SELECT * FROM sc_session_lookup(:digest)"), {"digest": digest}
            )
        ).first()
        return dict(row._mapping) if row is not None else None

    async def prune(self, org_id: UUID, before: datetime) -> None:
        """Forget the organization's sessions that ended or expired before ``before``."""
        await self.session.execute(
            delete(BrowserSession).where(
                BrowserSession.org_id == org_id,
                (BrowserSession.expires_at < before) | (BrowserSession.ended_at < before),
            )
        )

    async def change(self, session_id: UUID, **values: Any) -> None:
        await self.session.execute(
            update(BrowserSession).where(BrowserSession.id == session_id).values(**values)
        )


class IdentityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, org_id: UUID, issuer: str, subject: str) -> UserIdentity | None:
        return await self.session.scalar(
            select(UserIdentity).where(
                UserIdentity.org_id == org_id,
                UserIdentity.issuer == issuer,
                UserIdentity.subject == subject,
            )
        )

    async def add(self, identity: UserIdentity) -> UserIdentity:
        self.session.add(identity)
        await self.session.flush()
        return identity

    async def save(self) -> None:
        await self.session.flush()
