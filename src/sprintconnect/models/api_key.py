"""API keys: only an HMAC of the key is stored.

A ``user`` key belongs to a member and acts with at most what that member holds; a
``service`` key belongs to no one, is issued by an operator, and acts with its scopes.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from sprintconnect.models.base import Base, CreatedAtMixin, IdMixin

KIND_CHECK = (
    "(kind = 'user' AND created_by_user_id IS NOT NULL) "
    "OR (kind = 'service' AND created_by_user_id IS NULL)"
)


class ApiKey(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "api_keys"
    __table_args__ = (
        Index("ix_api_keys_org_created", "org_id", "created_at", "id"),
        # Owner-less keys exist only as explicit service keys; see migration 0008.
        CheckConstraint(KIND_CHECK, name="kind"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False, unique=True)
    key_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    # The owner of a user key; a deleted user takes their keys along, never leaving them ownerless.
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE")
    )
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Fingerprints of the last clients (address, user agent) the key was used from, newest
    # first: a new one is audited at once (``identity.auth_events``).
    recent_clients: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, default=list, server_default="{}"
    )
    expiry_notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
