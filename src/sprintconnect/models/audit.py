"""The audit log: append-only for the application role."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Identity, Index, String, func
from sqlalchemy.dialects.postgresql import INET, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from sprintconnect.models.base import Base


class _EntryColumns:
    """The columns every audit entry has, tenant's or platform's."""

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    tag: Mapped[str] = mapped_column(String(128), nullable=False)
    actor_type: Mapped[str] = mapped_column(String(32), nullable=False)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    request_id: Mapped[str | None] = mapped_column(String(128))
    ip: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(String(512))


class AuditEvent(_EntryColumns, Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_org_seq", "org_id", "seq"),)

    org_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False
    )


class PlatformAuditEvent(_EntryColumns, Base):
    """What platform operators did to the platform itself (e.g. replaying a job).

    Not a tenant's row, so no ``org_id`` and no row-level security: the application role may
    only append (no SELECT, no RETURNING); the owner role reads it.
    """

    __tablename__ = "platform_audit_events"
    __table_args__ = (Index("ix_platform_audit_events_seq", "seq"),)
