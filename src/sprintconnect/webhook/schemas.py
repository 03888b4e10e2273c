"""Request and response bodies of webhooks: endpoints, deliveries, attempts, tests and stats.

The signing secret is shown twice only: in the answer that creates an endpoint and in the
answer that rotates it (``WebhookWithSecret``, ``RotatedSecret``). Every other answer says
when it was last rotated and whether a previous secret is still being sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

DeliveryStatus = Literal["pending", "delivered", "failed"]
MAX_OVERLAP_SECONDS = 7 * 24 * 3600
DEFAULT_OVERLAP_SECONDS = 24 * 3600

_EVENT_TYPES = Field(
    min_length=1,
    max_length=50,
    description="Event types or patterns: an exact type (`server.health.unhealthy`), "
    "`<prefix>.*` (`server.*`, `api_key.*`) or `*` for every event. See "
    "`GET /api/v1/webhooks/event-types`.",
    examples=[["server.*", "api_key.created"]],
)
_URL = Field(
    min_length=8,
    max_length=2048,
    description="Where events are POSTed: https (http only where the operator allows "
    "loopback), acceptable to the organization's egress policy.",
    examples=["https://hooks.example.com/sprintconnect"],
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WebhookCreate(_Strict):
    url: str = _URL
    event_types: list[str] = _EVENT_TYPES
    description: str = Field(default="", max_length=500, examples=["Incident bot"])
    enabled: bool = True


class WebhookUpdate(_Strict):
    """Fields left out stay as they are."""

    url: str | None = Field(default=None, min_length=8, max_length=2048)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=50)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = Field(
        default=None,
        description="`true` also clears a disabled reason and resumes pending deliveries.",
    )


_WEBHOOK_EXAMPLE: JsonDict = {
    "id": "0b7f5a2e-61c4-4d8e-9f13-8a2c5e7d4b90",
    "url": "https://hooks.example.com/sprintconnect",
    "event_types": ["server.*", "api_key.created"],
    "description": "Incident bot",
    "enabled": True,
    "disabled_reason": None,
    "disabled_at": None,
    "failing_since": None,
    "secret_rotated_at": None,
    "previous_secret_expires_at": None,
    "created_at": "2026-11-28T10:00:00Z",
    "updated_at": "2026-11-28T10:00:00Z",
}
_DELIVERY_EXAMPLE: JsonDict = {
    "id": "6e2d9c41-7a3b-4f58-b0e1-2c9f8d7a6b53",
    "webhook_id": "0b7f5a2e-61c4-4d8e-9f13-8a2c5e7d4b90",
    "message_id": "msg_6e2d9c417a3b4f58b0e12c9f8d7a6b53",
    "event_type": "server.health.unhealthy",
    "occurred_at": "2026-11-28T10:00:00Z",
    "status": "pending",
    "attempts": 2,
    "next_attempt_at": "2026-11-28T10:05:05Z",
    "last_attempt_at": "2026-11-28T10:00:05Z",
    "last_status_code": 503,
    "last_error_class": "http_status",
    "delivered_at": None,
    "created_at": "2026-11-28T10:00:00Z",
}


class Webhook(BaseModel):
    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [_WEBHOOK_EXAMPLE]}
    )

    id: UUID
    url: str
    event_types: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None = Field(
        description="Why SprintConnect stopped deliveries: `gone` (the receiver answered 410) "
        "or `failing` (every attempt failed for the configured number of days); null when a "
        "member disabled it or it is enabled."
    )
    disabled_at: datetime | None
    failing_since: datetime | None
    secret_rotated_at: datetime | None
    previous_secret_expires_at: datetime | None = Field(
        description="Until when the previous secret's signature is sent too (a rotation)."
    )
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(Webhook):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{**_WEBHOOK_EXAMPLE, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]
        }
    )

    secret: str = Field(
        description="The signing secret (`whsec_` + base64). Shown only now: store it.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


class RotateSecret(_Strict):
    overlap_seconds: int = Field(
        default=DEFAULT_OVERLAP_SECONDS,
        ge=0,
        le=MAX_OVERLAP_SECONDS,
        description="How long the old secret keeps signing beside the new one (at most 7 "
        "days; 0 ends it now).",
    )


class RotatedSecret(BaseModel):
    id: UUID
    secret: str = Field(description="The new signing secret. Shown only now: store it.")
    previous_secret_expires_at: datetime | None


class EventType(BaseModel):
    type: str
    description: str


class EventTypes(BaseModel):
    """The whole catalog (not a page: it is short and fixed)."""

    event_types: list[EventType]
    patterns: list[str] = Field(description="Every `<prefix>.*` pattern, and `*`.")


class Attempt(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempted_at: datetime
    succeeded: bool
    status_code: int | None
    latency_ms: float | None
    response_snippet: str | None = Field(description="The answer's first KiB, printable.")
    error_class: str | None = Field(
        description="`timeout`, `connection`, `egress_denied`, `redirect`, `gone`, "
        "`http_status`, `protocol`, `secret_unavailable` or `error`."
    )
    error_message: str | None


class Delivery(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_DELIVERY_EXAMPLE]})

    id: UUID
    webhook_id: UUID
    message_id: str = Field(description="The `webhook-id` header: the same on every attempt.")
    event_type: str
    occurred_at: datetime
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None = Field(description="When pending: the next try.")
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error_class: str | None
    delivered_at: datetime | None
    created_at: datetime


class DeliveryDetails(Delivery):
    payload: dict[str, object] = Field(description="The event's `data`.")
    attempt_log: list[Attempt]


class WebhookTestResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "succeeded": True,
                    "message_id": "msg_test_5b1e0c8d2f3a4e6b9c7d1a2b3c4d5e6f",
                    "status_code": 200,
                    "latency_ms": 41.7,
                    "response_snippet": "ok",
                    "error_class": None,
                    "error_message": None,
                }
            ]
        }
    )

    succeeded: bool
    message_id: str
    status_code: int | None
    latency_ms: float
    response_snippet: str | None
    error_class: str | None
    error_message: str | None


class LastDelivery(BaseModel):
    at: datetime
    succeeded: bool
    status_code: int | None


class Stats(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "webhook_id": "0b7f5a2e-61c4-4d8e-9f13-8a2c5e7d4b90",
                    "success_rate_24h": 0.9812,
                    "attempts_24h": 213,
                    "success_rate_7d": 0.9954,
                    "attempts_7d": 1517,
                    "latency_ms_p50_24h": 182.4,
                    "latency_ms_p95_24h": 611.0,
                    "last_delivery": {
                        "at": "2026-11-28T10:00:05Z",
                        "succeeded": True,
                        "status_code": 200,
                    },
                    "errors_by_class_7d": {"timeout": 4, "http_status": 3},
                    "pending": 0,
                }
            ]
        }
    )

    webhook_id: UUID
    success_rate_24h: float | None = Field(
        description="Successful attempts / attempts; null when there were none."
    )
    attempts_24h: int
    success_rate_7d: float | None
    attempts_7d: int
    latency_ms_p50_24h: float | None = Field(
        default=None,
        description="Median time the receiver took to answer over the last 24 hours "
        "(milliseconds); null without timed attempts.",
    )
    latency_ms_p95_24h: float | None = Field(
        default=None, description="The 95th percentile of the same times."
    )
    last_delivery: LastDelivery | None
    errors_by_class_7d: dict[str, int]
    pending: int
