"""Sign-in: an organization's identity provider, sign-ins in flight, sessions, identities.

The provider's client secret is in the secret store (``identity-provider/client``); the row
keeps its path. Sessions kept in PostgreSQL hold the token's digest, never the token, and the
provider's refresh and ID tokens sealed with AES-GCM under a key derived from the key ring.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from sprintconnect.models.base import Base, CreatedAtMixin, IdMixin, org_column, user_column


class IdentityProvider(IdMixin, CreatedAtMixin, Base):
    """An organization's OIDC provider (one per organization)."""

    __tablename__ = "identity_providers"
    __table_args__ = (UniqueConstraint("org_id", name="uq_identity_providers_org_id"),)

    org_id: Mapped[uuid.UUID] = org_column()
    issuer: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    client_id: Mapped[str] = mapped_column(String(255), nullable=False)
    client_secret_ref: Mapped[str | None] = mapped_column(String(255))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    allowed_email_domains: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    claim_name: Mapped[str] = mapped_column(String(100), nullable=False, default="name")
    claim_email: Mapped[str] = mapped_column(String(100), nullable=False, default="email")
    claim_groups: Mapped[str] = mapped_column(String(100), nullable=False, default="groups")
    group_roles: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'")
    )
    access_token_audience: Mapped[str | None] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class LoginState(IdMixin, CreatedAtMixin, Base):
    """A sign-in in flight: taken (deleted) by the callback, so used at most once."""

    __tablename__ = "login_states"
    __table_args__ = (Index("ix_login_states_org_expiry", "org_id", "expires_at"),)

    org_id: Mapped[uuid.UUID] = org_column()
    state_digest: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, unique=True)
    binding_digest: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    nonce: Mapped[str] = mapped_column(String(100), nullable=False)
    code_verifier: Mapped[str] = mapped_column(String(128), nullable=False)
    redirect_uri: Mapped[str] = mapped_column(Text, nullable=False)
    return_to: Mapped[str] = mapped_column(Text, nullable=False)
    max_age: Mapped[int | None] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class BrowserSession(IdMixin, CreatedAtMixin, Base):
    """A signed-in browser (when sessions are kept in PostgreSQL)."""

    __tablename__ = "browser_sessions"
    __table_args__ = (Index("ix_browser_sessions_user", "org_id", "user_id"),)

    org_id: Mapped[uuid.UUID] = org_column()
    user_id: Mapped[uuid.UUID] = user_column()
    token_digest: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, unique=True)
    issuer: Mapped[str] = mapped_column(Text, nullable=False)
    authenticated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    acr: Mapped[str | None] = mapped_column(String(200))
    amr: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, default=list)
    refresh_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_token_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    access_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class UserIdentity(IdMixin, CreatedAtMixin, Base):
    """A provider's subject in one organization, and the roles its group mapping granted."""

    __tablename__ = "user_identities"
    __table_args__ = (
        UniqueConstraint("org_id", "issuer", "subject", name="uq_user_identities_subject"),
        Index("ix_user_identities_user", "org_id", "user_id"),
    )

    org_id: Mapped[uuid.UUID] = org_column()
    issuer: Mapped[str] = mapped_column(Text, nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    user_id: Mapped[uuid.UUID] = user_column()
    mapped_roles: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, default=list)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
