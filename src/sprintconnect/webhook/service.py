"""Webhook endpoints: validated, stored (secrets in the secret store), audited; deliveries
listed, redelivered and summed up; a test event sent on request. Never commits."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect import audit
from sprintconnect.config import Settings
from sprintconnect.egress import (
    EgressDenied,
    EgressPolicy,
    check_url,
    org_policy,
)
from sprintconnect.errors import FieldError, ValidationFailed
from sprintconnect.identity.principal import Principal
from sprintconnect.kit.clock import Clock
from sprintconnect.kit.pagination import decode_cursor, encode_cursor
from sprintconnect.kit.redact import redact_credentials
from sprintconnect.models import WebhookDelivery, WebhookEndpoint
from sprintconnect.organization.repository import OrganizationRepository
from sprintconnect.secret import SecretStore
from sprintconnect.webhook import catalog, schemas, secrets
from sprintconnect.webhook.delivery import message_id
from sprintconnect.webhook.errors import (
    UnknownEventType,
    WebhookDeliveryNotFound,
    WebhookDeliveryPending,
    WebhookLimitReached,
    WebhookNotFound,
)
from sprintconnect.webhook.repository import WebhookRepository


def check_patterns(patterns: list[str]) -> list[str]:
    """The patterns, de-duplicated in order; 422 listing the known types for any unknown."""
    errors = [
        FieldError(loc=["body", "event_types", i], msg=problem, type="unknown_event_type")
        for i, pattern in enumerate(patterns)
        if (problem := catalog.pattern_problem(pattern)) is not None
    ]
    if errors:
        raise UnknownEventType(errors, list(catalog.EVENT_TYPES))
    return list(dict.fromkeys(patterns))


def check_target(url: str, policy: EgressPolicy, settings: Settings) -> None:
    """https (http only where loopback is allowed), acceptable to the egress guard by its text:
    no connection is made. Checked again, with DNS, at every delivery."""
    loc: list[str | int] = ["body", "url"]
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        raise ValidationFailed("The URL cannot be read.", loc=loc) from None
    if scheme != "https" and not (scheme == "http" and settings.egress_allow_loopback):
        raise ValidationFailed("The URL must use https.", loc=loc)
    try:
        check_url(url, policy)
    except EgressDenied as exc:
        exc.errors = [FieldError(loc=loc, msg=exc.detail or exc.title, type=exc.slug)]
        raise


def shown(endpoint: WebhookEndpoint) -> schemas.Webhook:
    return schemas.Webhook.model_validate(endpoint)


def delivery_view(row: WebhookDelivery) -> schemas.Delivery:
    return schemas.Delivery(
        id=row.id,
        webhook_id=row.endpoint_id,
        message_id=message_id(row.id),
        event_type=row.event_type,
        occurred_at=row.occurred_at,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
        last_attempt_at=row.last_attempt_at,
        last_status_code=row.last_status_code,
        last_error_class=row.last_error_class,
        delivered_at=row.delivered_at,
        created_at=row.created_at,
    )


class WebhookService:
    def __init__(
        self,
        session: AsyncSession,
        principal: Principal,
        *,
        settings: Settings,
        clock: Clock,
        secret_store: SecretStore,
    ) -> None:
        self.session = session
        self.principal = principal
        self.org_id = principal.org_id
        self.settings = settings
        self.clock = clock
        self.store = secret_store
        self.repo = WebhookRepository(session)

    async def policy(self) -> EgressPolicy:
        org = await OrganizationRepository(self.session).get(self.org_id)
        return org_policy(self.settings, org.egress_allowlist if org else None, org_id=self.org_id)

    async def _audit(
        self, tag: audit.AuditTag, endpoint: WebhookEndpoint, **details: object
    ) -> None:
        await audit.record(
            self.session,
            tag,
            org_id=self.org_id,
            actor=self.principal.actor,
            target=audit.Target("webhook", endpoint.id),
            details=dict(details),
        )

    # --- endpoints ---------------------------------------------------------------------------

    async def get(self, endpoint_id: UUID, *, lock: bool = False) -> WebhookEndpoint:
        endpoint = await self.repo.get(self.org_id, endpoint_id, lock=lock)
        if endpoint is None:
            raise WebhookNotFound(f"No webhook has the id {endpoint_id} in this organization.")
        return endpoint

    async def create(self, body: schemas.WebhookCreate) -> schemas.WebhookWithSecret:
        patterns = check_patterns(body.event_types)
        check_target(body.url, await self.policy(), self.settings)
        if await self.repo.count(self.org_id) >= self.settings.webhook_max_endpoints:
            raise WebhookLimitReached(self.settings.webhook_max_endpoints)
        now = self.clock.now()
        endpoint = WebhookEndpoint(
            org_id=self.org_id,
            url=body.url,
            event_types=patterns,
            description=body.description,
            enabled=body.enabled,
            created_at=now,
            updated_at=now,
        )
        await self.repo.add(endpoint)
        secret = await secrets.create(self.store, self.org_id, endpoint.id)
        await self._audit(
            audit.AuditTag.WEBHOOK_CREATED,
            endpoint,
            url=redact_credentials(endpoint.url),
            event_types=patterns,
            enabled=endpoint.enabled,
        )
        return schemas.WebhookWithSecret(**shown(endpoint).model_dump(), secret=secret)

    async def page(
        self, *, cursor: str | None, limit: int
    ) -> tuple[list[schemas.Webhook], str | None]:
        after = decode_cursor(cursor) if cursor else None
        rows = await self.repo.page(self.org_id, after=after, limit=limit + 1)
        page = list(rows[:limit])
        more = len(rows) > limit and page
        next_cursor = encode_cursor(page[-1].created_at, page[-1].id) if more else None
        return [shown(r) for r in page], next_cursor

    async def update(self, endpoint_id: UUID, body: schemas.WebhookUpdate) -> schemas.Webhook:
        endpoint = await self.get(endpoint_id, lock=True)
        changed: dict[str, object] = {}
        if body.event_types is not None:
            endpoint.event_types = check_patterns(body.event_types)
            changed["event_types"] = endpoint.event_types
        if body.url is not None:
            check_target(body.url, await self.policy(), self.settings)
            endpoint.url = body.url
            changed["url"] = redact_credentials(body.url)
        if body.description is not None:
            endpoint.description = body.description
            changed["description"] = body.description
        resume = False
        if body.enabled is not None:
            resume = body.enabled and not endpoint.enabled
            endpoint.enabled = body.enabled
            changed["enabled"] = body.enabled
            if body.enabled:
                endpoint.disabled_reason = endpoint.disabled_at = endpoint.failing_since = None
            elif endpoint.disabled_at is None:
                endpoint.disabled_at = self.clock.now()
        endpoint.updated_at = self.clock.now()
        await self.session.flush()
        if resume:  # pending deliveries waited for it: send them now, still in order
            await self._resume(endpoint)
        await self._audit(audit.AuditTag.WEBHOOK_UPDATED, endpoint, **changed)
        return shown(endpoint)

    async def _resume(self, endpoint: WebhookEndpoint) -> None:
        head = await self.repo.head(self.org_id, endpoint.id)
        if head is not None:
            head.next_attempt_at = min(head.next_attempt_at, self.clock.now())
            await self.repo.defer_send(self.org_id, endpoint.id)

    async def delete(self, endpoint_id: UUID) -> None:
        endpoint = await self.get(endpoint_id, lock=True)
        await self._audit(
            audit.AuditTag.WEBHOOK_DELETED, endpoint, url=redact_credentials(endpoint.url)
        )
        await self.repo.remove(endpoint)
        await secrets.forget(self.store, self.org_id, endpoint.id)

    async def rotate(self, endpoint_id: UUID, body: schemas.RotateSecret) -> schemas.RotatedSecret:
        endpoint = await self.get(endpoint_id, lock=True)
        now = self.clock.now()
        overlap = body.overlap_seconds > 0
        secret = await secrets.rotate(self.store, self.org_id, endpoint.id, keep_previous=overlap)
        endpoint.secret_rotated_at = now
        endpoint.previous_secret_expires_at = (
            now + timedelta(seconds=body.overlap_seconds) if overlap else None
        )
        endpoint.updated_at = now
        await self.session.flush()
        await self._audit(
            audit.AuditTag.WEBHOOK_SECRET_ROTATED, endpoint, overlap_seconds=body.overlap_seconds
        )
        return schemas.RotatedSecret(
            id=endpoint.id,
            secret=secret,
            previous_secret_expires_at=endpoint.previous_secret_expires_at,
        )

    # --- deliveries --------------------------------------------------------------------------

    async def deliveries(
        self,
        endpoint_id: UUID,
        *,
        status: str | None,
        event_type: str | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[list[schemas.Delivery], str | None]:
        await self.get(endpoint_id)
        after = decode_cursor(cursor) if cursor else None
        rows = await self.repo.page_deliveries(
            self.org_id,
            endpoint_id,
            status=status,
            event_type=event_type,
            after=after,
            limit=limit + 1,
        )
        page = list(rows[:limit])
        more = len(rows) > limit and page
        next_cursor = encode_cursor(page[-1].created_at, page[-1].id) if more else None
        return [delivery_view(r) for r in page], next_cursor

    async def _delivery(
        self, endpoint_id: UUID, delivery_id: UUID, *, lock: bool = False
    ) -> WebhookDelivery:
        await self.get(endpoint_id)
        row = await self.repo.delivery(self.org_id, endpoint_id, delivery_id, lock=lock)
        if row is None:
            raise WebhookDeliveryNotFound(
                f"Webhook {endpoint_id} has no delivery with the id {delivery_id}."
            )
        return row

    async def delivery(self, endpoint_id: UUID, delivery_id: UUID) -> schemas.DeliveryDetails:
        row = await self._delivery(endpoint_id, delivery_id)
        attempts = await self.repo.attempts(self.org_id, row.id)
        return schemas.DeliveryDetails(
            **delivery_view(row).model_dump(),
            payload=dict(row.payload),
            attempt_log=[schemas.Attempt.model_validate(a) for a in attempts],
        )

    async def redeliver(self, endpoint_id: UUID, delivery_id: UUID) -> schemas.Delivery:
        """Send a settled delivery again, with its ``webhook-id``, before newer pending ones."""
        endpoint = await self.get(endpoint_id)
        row = await self._delivery(endpoint_id, delivery_id, lock=True)
        if row.status == "pending":
            raise WebhookDeliveryPending(
                "This delivery is still pending; it is sent on its schedule (or when the "
                "webhook is enabled again)."
            )
        previous = row.status
        row.status, row.attempts, row.delivered_at = "pending", 0, None
        row.next_attempt_at = self.clock.now()
        await self.session.flush()
        if endpoint.enabled:
            await self.repo.defer_send(self.org_id, endpoint.id)
        await self._audit(
            audit.AuditTag.WEBHOOK_REDELIVERED,
            endpoint,
            delivery_id=str(row.id),
            event_type=row.event_type,
            previous_status=previous,
        )
        return delivery_view(row)

    async def stats(self, endpoint_id: UUID) -> schemas.Stats:
        await self.get(endpoint_id)
        now = self.clock.now()
        counts, errors = await self.repo.stats(
            self.org_id, endpoint_id, day=now - timedelta(days=1), week=now - timedelta(days=7)
        )
        last = await self.repo.last_attempt(self.org_id, endpoint_id)
        return schemas.Stats(
            webhook_id=endpoint_id,
            success_rate_24h=_rate(counts["day_ok"], counts["day_total"]),
            attempts_24h=counts["day_total"],
            success_rate_7d=_rate(counts["week_ok"], counts["week_total"]),
            attempts_7d=counts["week_total"],
            latency_ms_p50_24h=_ms(counts["day_p50"]),
            latency_ms_p95_24h=_ms(counts["day_p95"]),
            last_delivery=schemas.LastDelivery(
                at=last.attempted_at, succeeded=last.succeeded, status_code=last.status_code
            )
            if last is not None
            else None,
            errors_by_class_7d=errors,
            pending=await self.repo.pending_count(self.org_id, endpoint_id),
        )


def _rate(ok: int, total: int) -> float | None:
    return round(ok / total, 4) if total else None


def _ms(value: float | None) -> float | None:
    return round(float(value), 1) if value is not None else None


def event_types() -> schemas.EventTypes:
    prefixes = sorted(
        {
            ".".join(t.split(".")[:i]) + ".*"
            for t in catalog.EVENT_TYPES
            for i in range(1, t.count(".") + 1)
        }
    )
    return schemas.EventTypes(
        event_types=[
            schemas.EventType(type=t, description=catalog.describe(t)) for t in catalog.EVENT_TYPES
        ],
        patterns=["*", *prefixes],
    )
