"""Errors of the webhook domain."""

from __future__ import annotations

from typing import Any

from sprintconnect.errors import Conflict, FieldError, NotFound, ValidationFailed


class WebhookNotFound(NotFound):
    slug = "webhook-not-found"
    title = "Webhook not found"


class WebhookDeliveryNotFound(NotFound):
    slug = "webhook-delivery-not-found"
    title = "Webhook delivery not found"


class WebhookLimitReached(Conflict):
    slug = "webhook-limit-reached"
    title = "The organization has as many webhooks as it may"

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"An organization may have {limit} webhook endpoints; delete one first.", limit=limit
        )


class WebhookDeliveryPending(Conflict):
    slug = "webhook-delivery-pending"
    title = "The delivery is still pending"


class UnknownEventType(ValidationFailed):
    slug = "unknown-event-type"
    title = "Unknown event type"
    default_loc = ("body", "event_types")

    def __init__(self, errors: list[FieldError], known: list[str], **extra: Any) -> None:
        super().__init__(
            f"{len(errors)} unknown event type(s); known: {', '.join(known)}, "
            "a '<prefix>.*' pattern or '*'.",
            errors=errors,
            known_event_types=known,
            **extra,
        )
