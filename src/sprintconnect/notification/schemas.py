"""Request and response bodies of notification preferences, escalation policy and deliveries.

Secrets (the Slack webhook URL, the webhook signing secret) are write-only: in a ``PUT`` an
absent field keeps what is stored, ``null`` removes it and a value replaces it; answers only
say whether one is set.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from sprintconnect.kit.text import normalize_email
from sprintconnect.models.notification import HEALTH_TOPICS

HealthEvent = Literal[
    "server.health.unhealthy", "server.health.degraded", "server.health.recovered"
]
Channel = Literal["email", "slack", "webhook"]
DeliveryStatus = Literal["pending", "sent", "failed"]
RoleName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$")]
URL_FIELD = Field(min_length=8, max_length=2048)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EmailChannelUpdate(_Strict):
    enabled: bool = True
    address: str | None = Field(
        default=None,
        max_length=320,
        description="Where to send; null: the account's email address.",
    )

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else normalize_email(value)


class SlackChannelUpdate(_Strict):
    enabled: bool = False
    webhook_url: SecretStr | None = Field(
        default=None,
        min_length=8,
        max_length=2048,
        description="A Slack incoming webhook URL (https). Absent: keep the stored one; "
        "null: remove it. Never shown again.",
    )


class WebhookChannelUpdate(_Strict):
    enabled: bool = False
    url: str | None = Field(
        default=None, min_length=8, max_length=2048, description="Where events are POSTed."
    )
    secret: SecretStr | None = Field(
        default=None,
        min_length=10,
        max_length=200,
        description="Signing secret in the Standard Webhooks form `whsec_<base64>`. Absent: "
        "keep the stored one; null: remove it (requests are then unsigned). Never shown again.",
    )


def _all_events() -> list[HealthEvent]:
    return list(HEALTH_TOPICS)  # type: ignore[arg-type]


class NotificationPreferencesUpdate(_Strict):
    """The whole set of your channels and events (a ``PUT``: what is left out takes defaults,
    except stored secrets, which stay unless set to null)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "email": {"enabled": True, "address": None},
                    "slack": {
                        "enabled": True,
                        "webhook_url": "https://hooks.slack.com/services/T000/B000/XXXXXXXX",
                    },
                    "webhook": {
                        "enabled": True,
                        "url": "https://alerts.example.com/sprintconnect",
                        "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                    },
                    "events": ["server.health.unhealthy", "server.health.recovered"],
                }
            ]
        },
    )

    email: EmailChannelUpdate = Field(default_factory=EmailChannelUpdate)
    slack: SlackChannelUpdate = Field(default_factory=SlackChannelUpdate)
    webhook: WebhookChannelUpdate = Field(default_factory=WebhookChannelUpdate)
    events: list[HealthEvent] = Field(default_factory=_all_events, max_length=3)

    @field_validator("events")
    @classmethod
    def _unique(cls, value: list[HealthEvent]) -> list[HealthEvent]:
        return sorted(set(value))


class EmailChannel(BaseModel):
    enabled: bool
    address: str | None = Field(description="The address notices go to.")
    uses_account_email: bool


class SlackChannel(BaseModel):
    enabled: bool
    configured: bool = Field(description="Whether a webhook URL is stored (it is never shown).")
    updated_at: datetime | None


class WebhookChannel(BaseModel):
    enabled: bool
    url: str | None
    secret_configured: bool
    secret_updated_at: datetime | None


class NotificationPreferences(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": {
                        "enabled": True,
                        "address": "dana@example.com",
                        "uses_account_email": True,
                    },
                    "slack": {
                        "enabled": True,
                        "configured": True,
                        "updated_at": "2026-11-28T09:12:00Z",
                    },
                    "webhook": {
                        "enabled": False,
                        "url": None,
                        "secret_configured": False,
                        "secret_updated_at": None,
                    },
                    "events": ["server.health.recovered", "server.health.unhealthy"],
                    "updated_at": "2026-11-28T09:12:00Z",
                }
            ]
        }
    )

    email: EmailChannel
    slack: SlackChannel
    webhook: WebhookChannel
    events: list[HealthEvent]
    updated_at: datetime | None = Field(description="Null until you first save preferences.")


class EscalationTarget(_Strict):
    user_ids: list[UUID] = Field(default_factory=list, max_length=100)
    roles: list[RoleName] = Field(
        default_factory=list, max_length=20, description="Members holding any of these roles."
    )


class EscalationPolicyUpdate(_Strict):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "unhealthy": {"user_ids": [], "roles": ["engineer"]},
                    "degraded": {
                        "user_ids": ["5d866963-8f41-4b2e-a0c7-61d2e9f3b4a8"],
                        "roles": ["admin"],
                    },
                    "repeat_minutes": 60,
                    "cooldown_minutes": 30,
                }
            ]
        },
    )

    unhealthy: EscalationTarget = Field(description="Notified when a server turns unhealthy.")
    degraded: EscalationTarget = Field(description="Notified when a server escalates to degraded.")
    repeat_minutes: int = Field(
        ge=0, le=10_080, description="Remind degraded recipients this often; 0: never."
    )
    cooldown_minutes: int = Field(
        ge=0,
        le=1440,
        description="No second notice of the same kind about the same server to the same "
        "member within this time.",
    )


class EscalationPolicy(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "unhealthy": {"user_ids": [], "roles": ["admin"]},
                    "degraded": {"user_ids": [], "roles": ["admin"]},
                    "repeat_minutes": 60,
                    "cooldown_minutes": 30,
                    "is_default": True,
                    "updated_at": None,
                    "updated_by_user_id": None,
                }
            ]
        }
    )

    unhealthy: EscalationTarget
    degraded: EscalationTarget
    repeat_minutes: int
    cooldown_minutes: int
    is_default: bool = Field(description="True while the organization has not set a policy.")
    updated_at: datetime | None
    updated_by_user_id: UUID | None


class Delivery(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "0b7d3c1e-6a2f-4e59-9f1a-3c5d7e9b1a20",
                    "server_id": "7c0e4a51-3b9e-4f0d-9a57-2d1f6c8e0b13",
                    "topic": "server.health.unhealthy",
                    "event_key": "health:7c0e4a51-3b9e-4f0d-9a57-2d1f6c8e0b13:42",
                    "user_id": "5d866963-8f41-4b2e-a0c7-61d2e9f3b4a8",
                    "channel": "email",
                    "status": "failed",
                    "attempts": 6,
                    "last_error": "SMTPConnectError: Error connecting to mail.example.com",
                    "created_at": "2026-11-28T09:12:00Z",
                    "last_attempt_at": "2026-11-28T09:40:00Z",
                    "sent_at": None,
                }
            ]
        },
    )

    id: UUID
    server_id: UUID
    topic: str
    event_key: str
    user_id: UUID
    channel: Channel
    status: DeliveryStatus
    attempts: int
    last_error: str | None = Field(description="The last failure, with credentials masked.")
    created_at: datetime
    last_attempt_at: datetime | None
    sent_at: datetime | None
