"""Webhooks: an organization's endpoints, one delivery per event and endpoint, every attempt.

Signing secrets live in the secret store (``webhooks/<endpoint id>``); the endpoint row says
only when the secret was rotated and until when the previous one is still sent.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from sprintconnect.models.base import Base, CreatedAtMixin, org_fk


def _endpoint_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["endpoint_id"],
        ["webhook_endpoints.id"],
        ondelete="CASCADE",
        name=f"fk_{table}_endpoint_id_webhook_endpoints",
    )


class WebhookEndpoint(CreatedAtMixin, Base):
    """Where an organization wants events, which ones, and the state of its deliveries."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_webhook_endpoints"),
        org_fk("webhook_endpoints"),
        Index("ix_webhook_endpoints_org", "org_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(String(500), nullable=False, server_default="")
    event_types: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true())
    # Why deliveries stopped without a member asking: ``gone`` (HTTP 410), ``failing``.
    disabled_reason: Mapped[str | None] = mapped_column(String(40))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Since when every attempt failed (null after a success): disables after N days.
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    secret_rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # One sender at a time per endpoint (database time): keeps deliveries in order.
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class WebhookDelivery(CreatedAtMixin, Base):
    """One event for one endpoint; ``seq`` orders an endpoint's deliveries."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
        UniqueConstraint("endpoint_id", "event_key", name="uq_webhook_deliveries_event"),
        org_fk("webhook_deliveries"),
        _endpoint_fk("webhook_deliveries"),
        Index(
            "ix_webhook_deliveries_pending",
            "endpoint_id",
            "seq",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_webhook_deliveries_list", "org_id", "endpoint_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), nullable=False)
    event_key: Mapped[str] = mapped_column(String(200), nullable=False)
    event_type: Mapped[str] = mapped_column(String(100), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error_class: Mapped[str | None] = mapped_column(String(40))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookAttempt(Base):
    """One HTTP request of a delivery: what came back, how long it took, or why it failed."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_webhook_attempts"),
        org_fk("webhook_attempts"),
        _endpoint_fk("webhook_attempts"),
        ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            ondelete="CASCADE",
            name="fk_webhook_attempts_delivery_id_webhook_deliveries",
        ),
        Index("ix_webhook_attempts_delivery", "delivery_id", "id"),
        Index("ix_webhook_attempts_endpoint", "endpoint_id", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True))
    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    endpoint_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    delivery_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    succeeded: Mapped[bool] = mapped_column(Boolean, nullable=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    response_snippet: Mapped[str | None] = mapped_column(String(1024))
    error_class: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
