"""Health monitoring: each server's schedule and status, raw checks, hourly rollups, transitions."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Double,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Text,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from sprintconnect.models.base import Base, org_fk, server_fk


def _fks(table: str) -> tuple[ForeignKeyConstraint, ForeignKeyConstraint]:
    return org_fk(table), server_fk(table)


class ServerHealth(Base):
    """One row per server (a database trigger creates it with the server)."""

    __tablename__ = "server_health"
    __table_args__ = (
        *_fks("server_health"),
        CheckConstraint("check_type IN ('ping', 'capability', 'full')", name="check_type"),
        CheckConstraint("status IN ('unknown', 'healthy', 'unhealthy', 'degraded')", name="status"),
        Index("ix_server_health_org", "org_id"),
        Index("ix_server_health_due", "next_check_at", postgresql_where=text("enabled")),
    )

    server_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true())
    check_type: Mapped[str] = mapped_column(Text, nullable=False, server_default="ping")
    interval_seconds: Mapped[int] = mapped_column(Integer, nullable=False, server_default="300")
    # Null: the organization's.
    failure_threshold: Mapped[int | None] = mapped_column(Integer)
    degraded_after_seconds: Mapped[int | None] = mapped_column(Integer)
    next_check_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    leased_by: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="unknown")
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_check_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_response_ms: Mapped[float | None] = mapped_column(Double)
    last_error_class: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    failure_streak: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    unhealthy_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class HealthCheck(Base):
    """One check's raw result, kept for the retention window."""

    __tablename__ = "health_checks"
    __table_args__ = (
        *_fks("health_checks"),
        Index(
            "ix_health_checks_org_server_checked",
            "org_id",
            "server_id",
            text("checked_at DESC"),
        ),
        # Retention finds old rows by age across servers (see health.rollup).
        Index("ix_health_checks_checked_at", "checked_at", postgresql_using="brin"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    server_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    check_type: Mapped[str] = mapped_column(Text, nullable=False)
    trigger: Mapped[str] = mapped_column(Text, nullable=False)
    outcome: Mapped[str] = mapped_column(Text, nullable=False)
    response_ms: Mapped[float] = mapped_column(Double, nullable=False)
    error_class: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)


class HealthRollup(Base):
    """One server's checks of one hour: count, failures, latency sum and histogram."""

    __tablename__ = "health_rollups"
    __table_args__ = (
        PrimaryKeyConstraint("server_id", "hour", name="pk_health_rollups"),
        *_fks("health_rollups"),
        Index("ix_health_rollups_org_server_hour", "org_id", "server_id", "hour"),
        Index("ix_health_rollups_hour", "hour", postgresql_using="brin"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    server_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    checks: Mapped[int] = mapped_column(Integer, nullable=False)
    failures: Mapped[int] = mapped_column(Integer, nullable=False)
    latency_sum_ms: Mapped[float] = mapped_column(Double, nullable=False)
    # Counts per bucket of the fixed boundaries of kit.histogram; merged by element-wise sum.
    latency_buckets: Mapped[list[int]] = mapped_column(ARRAY(Integer), nullable=False)


class HealthTransition(Base):
    """A status change of one server."""

    __tablename__ = "health_transitions"
    __table_args__ = (
        *_fks("health_transitions"),
        Index("ix_health_transitions_org_server_at", "org_id", "server_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    server_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    from_status: Mapped[str] = mapped_column(Text, nullable=False)
    to_status: Mapped[str] = mapped_column(Text, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
