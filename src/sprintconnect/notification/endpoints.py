"""HTTP routes: your notification preferences, the escalation policy, and deliveries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from sprintconnect.db.session import DbSession, get_runtime
from sprintconnect.egress import EgressDenied
from sprintconnect.errors import InvalidCursor, problem_responses
from sprintconnect.identity.auth import Authenticator
from sprintconnect.identity.principal import Principal
from sprintconnect.kit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from sprintconnect.kit.responses import AUTHENTICATED
from sprintconnect.notification.schemas import (
    Delivery,
    DeliveryStatus,
    EscalationPolicy,
    EscalationPolicyUpdate,
    NotificationPreferences,
    NotificationPreferencesUpdate,
)
from sprintconnect.notification.service import MemberKeyRequired, NotificationService
from sprintconnect.secret import SecretStoreUnavailable

HealthRead = Annotated[Principal, Depends(Authenticator("health:read"))]
HealthWrite = Annotated[Principal, Depends(Authenticator("health:write"))]
# Deliveries name members and their failures: the organization's admins read them.
OrgAdmin = Annotated[Principal, Depends(Authenticator("org:write"))]

router = APIRouter(prefix="/api/v1", tags=["Notifications"], responses=AUTHENTICATED)


def _service(request: Request, session: DbSession, principal: Principal) -> NotificationService:
    runtime = get_runtime(request)
    return NotificationService(
        session,
        principal,
        settings=runtime.settings,
        clock=runtime.clock,
        secrets=request.app.state.secret_store,
    )


@router.get(
    "/me/notification-preferences",
    summary="Your notification channels and events",
    description="Per membership: each organization you belong to keeps its own. Until you save "
    "any, every health event goes to your account's email. Secrets are never shown: Slack says "
    "`configured`, the webhook `secret_configured`.",
    responses=problem_responses(MemberKeyRequired),
)
async def get_preferences(
    request: Request, principal: HealthRead, session: DbSession
) -> NotificationPreferences:
    return await _service(request, session, principal).preferences()


@router.put(
    "/me/notification-preferences",
    summary="Set your notification channels and events",
    description="Replaces your preferences. Slack and webhook URLs must be https and acceptable "
    "to the organization's egress policy (checked again at every delivery). For "
    "`slack.webhook_url` and `webhook.secret`, leaving the field out keeps the stored value "
    "and `null` removes it.",
    responses=problem_responses(MemberKeyRequired, EgressDenied, SecretStoreUnavailable),
)
async def put_preferences(
    body: NotificationPreferencesUpdate,
    request: Request,
    principal: HealthRead,
    session: DbSession,
) -> NotificationPreferences:
    return await _service(request, session, principal).update_preferences(body)


@router.get(
    "/health/escalation-policy",
    summary="Who is notified when servers fail",
    description="`is_default` is true until the organization sets a policy; the default "
    "notifies members with the `admin` role at both levels, reminds hourly while degraded and "
    "holds a 30-minute cool-down.",
)
async def get_escalation_policy(
    request: Request, principal: HealthRead, session: DbSession
) -> EscalationPolicy:
    return await _service(request, session, principal).escalation()


@router.put(
    "/health/escalation-policy",
    summary="Set who is notified when servers fail",
    description="Recipients are members by id and members holding a role (built-in or custom). "
    "Unknown members or roles are 422. Needs `health:write`.",
)
async def put_escalation_policy(
    body: EscalationPolicyUpdate, request: Request, principal: HealthWrite, session: DbSession
) -> EscalationPolicy:
    return await _service(request, session, principal).update_escalation(body)


@router.get(
    "/notifications/deliveries",
    summary="Notification deliveries, newest first",
    description="Each notice to one member over one channel: `pending` (waiting or being "
    "retried; `last_error` says why the previous attempt failed), `sent`, or `failed` (out of "
    "attempts, or a failure that retrying cannot fix). For organization admins (`org:write`).",
    responses=problem_responses(InvalidCursor),
)
async def list_deliveries(
    request: Request,
    principal: OrgAdmin,
    session: DbSession,
    status: Annotated[DeliveryStatus | None, Query()] = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[Delivery]:
    items, next_cursor = await _service(request, session, principal).deliveries(
        status=status, cursor=cursor, limit=limit
    )
    return Page[Delivery](items=items, next_cursor=next_cursor)
