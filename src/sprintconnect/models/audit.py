"""The audit log: append-only for the application role."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    String,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import INET, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from sprintconnect.models.base import Base

# What ``outcome=failure`` means (audit.query; migration 0016).
AUDIT_FAILURE_SQL = (
    "(tag ~ ':(auth_[a-z_]+|[a-z_]*failed)$' OR details @> '{\"outcome\": \"failure\"}')"
)
# The details as words (strings and numbers; ``simple``: no stemming, no stop words).
AUDIT_DETAILS_FTS_SQL = (
    "jsonb_to_tsvector('simple'::regconfig, details, '[\"string\", \"numeric\"]')"
)


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
    # The user behind the actor (an API key's owner), and whether they were a platform operator.
    actor_user_id: Mapped[str | None] = mapped_column(String(64))
    actor_super_admin: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default="false"
    )
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    request_id: Mapped[str | None] = mapped_column(String(128))
    ip: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None] = mapped_column(String(512))


class AuditEvent(_EntryColumns, Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_org_seq", "org_id", "seq"),
        # Reading (migration 0016): newest first, (occurred_at, seq) after each filter's columns.
        Index("ix_audit_events_org_time", "org_id", "occurred_at", "seq"),
        Index(
            "ix_audit_events_org_actor", "org_id", "actor_type", "actor_id", "occurred_at", "seq"
        ),
        Index(
            "ix_audit_events_org_tag",
            "org_id",
            "tag",
            "occurred_at",
            "seq",
            postgresql_ops={"tag": "text_pattern_ops"},
        ),
        Index("ix_audit_events_org_target", "org_id", "target_id", "occurred_at", "seq"),
        Index(
            "ix_audit_events_org_failures",
            "org_id",
            "occurred_at",
            "seq",
            postgresql_where=text(AUDIT_FAILURE_SQL),
        ),
        Index("ix_audit_events_org_target_type", "org_id", "target_type", "occurred_at", "seq"),
        Index("ix_audit_events_org_request", "org_id", "request_id", "occurred_at", "seq"),
        Index(
            "ix_audit_events_details_fts",
            text(f"({AUDIT_DETAILS_FTS_SQL})"),
            postgresql_using="gin",
        ),
        # The ledger's sequencer (migration 0017): entries by inserting transaction.
        Index("ix_audit_events_org_xact", "org_id", "xact_id"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False
    )
    # The inserting transaction (a column default, so the INSERT stays plain): audit.ledger.
    xact_id: Mapped[int | None] = mapped_column(
        BigInteger, server_default=text("(pg_current_xact_id()::text)::bigint")
    )


class PlatformAuditEvent(_EntryColumns, Base):
    """What platform operators did to the platform itself (e.g. replaying a job).

    Not a tenant's row, so no ``org_id`` and no row-level security: the application role may
    only append (no SELECT, no RETURNING); the owner role reads it.
    """

    __tablename__ = "platform_audit_events"
    __table_args__ = (Index("ix_platform_audit_events_seq", "seq"),)
