"""HTTP routes: webhook endpoints, their secrets, deliveries, test events and stats."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status

from sprintconnect.db.session import DbSession, get_runtime, release_connection
from sprintconnect.egress import EgressDenied
from sprintconnect.errors import InvalidCursor, problem_responses
from sprintconnect.identity.auth import Authenticator
from sprintconnect.identity.principal import Principal
from sprintconnect.kit.outbound import OutboundBusy, OutboundLimiterDep
from sprintconnect.kit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from sprintconnect.kit.responses import AUTHENTICATED
from sprintconnect.mcp_server.deps import NetworkDep
from sprintconnect.secret import SecretStoreUnavailable
from sprintconnect.webhook import service as webhook_service
from sprintconnect.webhook.errors import (
    UnknownEventType,
    WebhookDeliveryNotFound,
    WebhookDeliveryPending,
    WebhookLimitReached,
    WebhookNotFound,
)
from sprintconnect.webhook.schemas import (
    Delivery,
    DeliveryDetails,
    DeliveryStatus,
    EventTypes,
    RotatedSecret,
    RotateSecret,
    Stats,
    Webhook,
    WebhookCreate,
    WebhookTestResult,
    WebhookUpdate,
    WebhookWithSecret,
)
from sprintconnect.webhook.service import WebhookService
from sprintconnect.webhook.testing import send_test

WebhooksRead = Annotated[Principal, Depends(Authenticator("webhooks:read"))]
WebhooksWrite = Annotated[Principal, Depends(Authenticator("webhooks:write"))]

router = APIRouter(prefix="/api/v1/webhooks", tags=["Webhooks"], responses=AUTHENTICATED)


def _service(request: Request, session: DbSession, principal: Principal) -> WebhookService:
    runtime = get_runtime(request)
    return WebhookService(
        session,
        principal,
        settings=runtime.settings,
        clock=runtime.clock,
        secret_store=request.app.state.secret_store,
    )


@router.get(
    "/event-types",
    summary="The event types a webhook can subscribe to",
    description="Every event type with what it means, and the patterns that select several: "
    "`<prefix>.*` (any depth: `server.*` covers `server.health.unhealthy`) and `*`.",
)
async def list_event_types(principal: WebhooksRead) -> EventTypes:
    return webhook_service.event_types()


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a webhook endpoint",
    description="The URL must be https and acceptable to the organization's egress policy (it "
    "is checked again, with DNS, at every delivery). `event_types` are types or patterns from "
    "`GET /api/v1/webhooks/event-types`. The answer carries the signing `secret`, the only "
    "time it is shown. At most `SPRINTCONNECT_WEBHOOK_MAX_ENDPOINTS` per organization.",
    responses=problem_responses(
        UnknownEventType, EgressDenied, WebhookLimitReached, SecretStoreUnavailable
    ),
)
async def create_webhook(
    body: WebhookCreate, request: Request, principal: WebhooksWrite, session: DbSession
) -> WebhookWithSecret:
    return await _service(request, session, principal).create(body)


@router.get(
    "",
    summary="List webhook endpoints, newest first",
    description="Secrets are never shown; `secret_rotated_at` says when the secret last changed.",
    responses=problem_responses(InvalidCursor),
)
async def list_webhooks(
    request: Request,
    principal: WebhooksRead,
    session: DbSession,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[Webhook]:
    items, next_cursor = await _service(request, session, principal).page(
        cursor=cursor, limit=limit
    )
    return Page[Webhook](items=items, next_cursor=next_cursor)


@router.get(
    "/{webhook_id}",
    summary="A webhook endpoint",
    description="Its URL, event types, whether it is enabled and, if SprintConnect disabled "
    "it, why (`gone`, `failing`).",
    responses=problem_responses(WebhookNotFound),
)
async def get_webhook(
    webhook_id: UUID, request: Request, principal: WebhooksRead, session: DbSession
) -> Webhook:
    return webhook_service.shown(await _service(request, session, principal).get(webhook_id))


@router.patch(
    "/{webhook_id}",
    summary="Change a webhook endpoint",
    description="Fields left out stay. Changes apply from the next delivery attempt, also to "
    "deliveries already queued. `enabled: true` on a disabled endpoint clears the reason and "
    "sends the deliveries that waited, in order.",
    responses=problem_responses(WebhookNotFound, UnknownEventType, EgressDenied),
)
async def update_webhook(
    webhook_id: UUID,
    body: WebhookUpdate,
    request: Request,
    principal: WebhooksWrite,
    session: DbSession,
) -> Webhook:
    return await _service(request, session, principal).update(webhook_id, body)


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a webhook endpoint",
    description="With its deliveries, their attempts and its signing secret.",
    responses=problem_responses(WebhookNotFound, SecretStoreUnavailable),
)
async def delete_webhook(
    webhook_id: UUID, request: Request, principal: WebhooksWrite, session: DbSession
) -> Response:
    await _service(request, session, principal).delete(webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{webhook_id}/rotate-secret",
    summary="Rotate a webhook's signing secret",
    description="Answers the new secret, the only time it is shown. For `overlap_seconds` "
    "(default 24 hours, at most 7 days) every request carries two signatures in "
    "`webhook-signature`, space-separated: one with the new secret and one with the old, so "
    "the receiver can switch whenever it likes within that time.",
    responses=problem_responses(WebhookNotFound, SecretStoreUnavailable),
)
async def rotate_secret(
    webhook_id: UUID,
    request: Request,
    principal: WebhooksWrite,
    session: DbSession,
    body: RotateSecret | None = None,
) -> RotatedSecret:
    return await _service(request, session, principal).rotate(webhook_id, body or RotateSecret())


@router.post(
    "/{webhook_id}/test",
    summary="Send a test event now",
    description="POSTs a signed `webhook.test` event to the endpoint (enabled or not) within "
    "`SPRINTCONNECT_WEBHOOK_TIMEOUT_SECONDS` and answers what the receiver said: status, "
    "time taken and the first KiB of its answer, or the classified failure. Not recorded as a "
    "delivery. Counts against the organization's outbound concurrency.",
    responses=problem_responses(WebhookNotFound, OutboundBusy, SecretStoreUnavailable),
)
async def test_webhook(
    webhook_id: UUID,
    request: Request,
    principal: WebhooksWrite,
    session: DbSession,
    network: NetworkDep,
    limiter: OutboundLimiterDep,
) -> WebhookTestResult:
    service = _service(request, session, principal)
    target = await service.get(webhook_id)
    policy = await service.policy()
    now = service.clock.now()
    url, previous_until = target.url, target.previous_secret_expires_at
    # Read, release, call out (ADR 0005): no pooled connection is held during the request.
    await release_connection(session)
    settings = service.settings
    async with limiter.slot(principal.org_id, seconds=settings.webhook_timeout_seconds * 2):
        return await send_test(
            service.store,
            network,
            org_id=principal.org_id,
            endpoint_id=webhook_id,
            url=url,
            policy=policy,
            now=now,
            previous_until=previous_until,
            seconds=settings.webhook_timeout_seconds,
        )


@router.get(
    "/{webhook_id}/deliveries",
    summary="A webhook's deliveries, newest first",
    description="One per event: `pending` (waiting, or between retries: see "
    "`next_attempt_at`), `delivered`, or `failed` (out of retries, or the receiver answered "
    "410). Filter by `status` and `event_type`.",
    responses=problem_responses(WebhookNotFound, InvalidCursor),
)
async def list_deliveries(
    webhook_id: UUID,
    request: Request,
    principal: WebhooksRead,
    session: DbSession,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    event_type: Annotated[str | None, Query(max_length=100)] = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[Delivery]:
    items, next_cursor = await _service(request, session, principal).deliveries(
        webhook_id, status=status_, event_type=event_type, cursor=cursor, limit=limit
    )
    return Page[Delivery](items=items, next_cursor=next_cursor)


@router.get(
    "/{webhook_id}/deliveries/{delivery_id}",
    summary="A delivery with every attempt",
    description="The event's data and each attempt: when, status code, time taken, the "
    "answer's first KiB, or the error class and message.",
    responses=problem_responses(WebhookNotFound, WebhookDeliveryNotFound),
)
async def get_delivery(
    webhook_id: UUID,
    delivery_id: UUID,
    request: Request,
    principal: WebhooksRead,
    session: DbSession,
) -> DeliveryDetails:
    return await _service(request, session, principal).delivery(webhook_id, delivery_id)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    summary="Send a delivery again",
    description="A `failed` (or `delivered`) delivery becomes `pending` with a fresh retry "
    "schedule and the same `webhook-id`; it goes before the endpoint's newer pending "
    "deliveries. A pending delivery is 409.",
    responses=problem_responses(WebhookNotFound, WebhookDeliveryNotFound, WebhookDeliveryPending),
)
async def redeliver(
    webhook_id: UUID,
    delivery_id: UUID,
    request: Request,
    principal: WebhooksWrite,
    session: DbSession,
) -> Delivery:
    return await _service(request, session, principal).redeliver(webhook_id, delivery_id)


@router.get(
    "/{webhook_id}/stats",
    summary="A webhook's delivery statistics",
    description="Success rate of attempts over the last 24 hours and 7 days (null without "
    "attempts), the last attempt, failures by error class over 7 days, and how many "
    "deliveries are pending.",
    responses=problem_responses(WebhookNotFound),
)
async def get_stats(
    webhook_id: UUID, request: Request, principal: WebhooksRead, session: DbSession
) -> Stats:
    return await _service(request, session, principal).stats(webhook_id)
