"""Notifications: members' channel preferences, the organization's escalation policy, the
state that keeps a flapping server from sending a stream of notices, and each delivery."""

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
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from sprintconnect.models.base import Base, CreatedAtMixin, org_fk, server_fk

HEALTH_TOPICS = ("server.health.unhealthy", "server.health.degraded", "server.health.recovered")


class NotificationPreference(Base):
    """One member's channels and events. Secrets (the Slack webhook URL, the webhook signing
    secret) live in the secret store; these columns only say when they were set."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        PrimaryKeyConstraint("org_id", "user_id", name="pk_notification_preferences"),
        ForeignKeyConstraint(
            ["org_id", "user_id"],
            ["memberships.org_id", "memberships.user_id"],
            ondelete="CASCADE",
            name="fk_notification_preferences_org_id_memberships",
        ),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    email_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true())
    # Null: the member's account email.
    email_address: Mapped[str | None] = mapped_column(String(320))
    slack_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    slack_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    webhook_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())
    webhook_url: Mapped[str | None] = mapped_column(Text)
    webhook_secret_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    events: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )


class EscalationPolicy(Base):
    """Who hears about an unhealthy and a degraded server, how often, and the cool-down."""

    __tablename__ = "escalation_policies"
    __table_args__ = (
        PrimaryKeyConstraint("org_id", name="pk_escalation_policies"),
        org_fk("escalation_policies"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    unhealthy_user_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), nullable=False
    )
    unhealthy_roles: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    degraded_user_ids: Mapped[list[uuid.UUID]] = mapped_column(
        ARRAY(UUID(as_uuid=True)), nullable=False
    )
    degraded_roles: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    repeat_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    cooldown_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, server_default=func.now()
    )
    updated_by_user_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))


class NotificationCooldown(Base):
    """Per server and recipient: when each kind of notice last went out, and whether a failure
    notice awaits its recovery notice (only those who heard of a failure hear of the end)."""

    __tablename__ = "notification_cooldowns"
    __table_args__ = (
        PrimaryKeyConstraint("server_id", "user_id", name="pk_notification_cooldowns"),
        org_fk("notification_cooldowns"),
        server_fk("notification_cooldowns"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    server_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    unhealthy_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    degraded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recovered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    alerted: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=false())


class NotificationDelivery(CreatedAtMixin, Base):
    """One notice to one member over one channel; retried until sent or out of attempts."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        PrimaryKeyConstraint("id", name="pk_notification_deliveries"),
        UniqueConstraint(
            "org_id", "event_key", "user_id", "channel", name="uq_notification_deliveries_event"
        ),
        org_fk("notification_deliveries"),
        server_fk("notification_deliveries"),
        Index("ix_notification_deliveries_status", "org_id", "status", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), default=uuid.uuid4)
    org_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    server_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    # The outbox event's key (``health:<server>:<transition>``), or ``repeat:...`` for a
    # reminder while degraded: with user and channel, what makes a dispatch safe to repeat.
    event_key: Mapped[str] = mapped_column(String(200), nullable=False)
    topic: Mapped[str] = mapped_column(String(100), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    channel: Mapped[str] = mapped_column(String(20), nullable=False)
    # The email address, for email; Slack and webhook targets are read when delivering.
    address: Mapped[str | None] = mapped_column(String(320))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    status: Mapped[str] = mapped_column(
        String(20), nullable=False, server_default=text("'pending'")
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
