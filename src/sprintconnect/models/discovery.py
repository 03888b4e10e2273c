"""Discoveries and the versioned capability snapshots they produce."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from sprintconnect.models.base import Base, CreatedAtMixin, IdMixin, org_fk, server_fk


def _fks(table: str, *extra: ForeignKeyConstraint) -> tuple[ForeignKeyConstraint, ...]:
    return org_fk(table), server_fk(table), *extra


class Discovery(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "discoveries"
    __table_args__ = (
        *_fks("discoveries"),
        Index("ix_discoveries_server_created", "server_id", "created_at"),
        Index(
            "uq_discoveries_active_server",
            "server_id",
            unique=True,
            postgresql_where=text("status IN ('queued', 'in_progress')"),
        ),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    server_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    phase: Mapped[str | None] = mapped_column(String(40))
    force_refresh: Mapped[bool] = mapped_column(Boolean, nullable=False)
    outcome: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(Text)
    snapshot_version: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0", default=0)
    requested_by_user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CapabilitySnapshot(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "capability_snapshots"
    __table_args__ = (
        *_fks("capability_snapshots"),
        UniqueConstraint("server_id", "version", name="uq_capability_snapshots_server_version"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    server_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    protocol_version: Mapped[str | None] = mapped_column(String(32))
    server_info: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    capabilities: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    counts: Mapped[dict[str, int]] = mapped_column(JSONB, nullable=False)
    diff: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    truncation: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    last_confirmed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class CapabilityItem(IdMixin, Base):
    """One tool, resource, resource template or prompt as a snapshot saw it."""

    __tablename__ = "capability_items"
    __table_args__ = (
        *_fks(
            "capability_items",
            ForeignKeyConstraint(
                ["snapshot_id"],
                ["capability_snapshots.id"],
                ondelete="CASCADE",
                name="fk_capability_items_snapshot_id_capability_snapshots",
            ),
        ),
        Index("ix_capability_items_snapshot", "snapshot_id", "kind", "name"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    snapshot_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    server_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    title: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    body: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
