"""HTTP routes for service accounts (``/api/v1/service-accounts``)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from sprintconnect.db.session import DbSession, RuntimeDep
from sprintconnect.errors import (
    AuthenticationRequired,
    InsufficientScope,
    InvalidCursor,
    RateLimited,
    ValidationFailed,
    problem_responses,
)
from sprintconnect.identity.deps import (
    ServiceAccountsRead,
    ServiceAccountsRotate,
    ServiceAccountsWrite,
)
from sprintconnect.identity.session.errors import StepUpRequired
from sprintconnect.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from sprintconnect.role.service import GrantAboveGranter, LastAdmin, RoleNotFound
from sprintconnect.service_account import schemas
from sprintconnect.service_account.service import (
    ServiceAccountNameTaken,
    ServiceAccountNotFound,
    ServiceAccountService,
)

router = APIRouter(
    prefix="/api/v1/service-accounts",
    tags=["Service accounts"],
    responses=problem_responses(AuthenticationRequired, InsufficientScope, RateLimited),
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a service account",
    description="A client for `POST /oauth/token` (client credentials), acting as a member "
    "with `roles` (only roles you may grant). `client_secret` is in this answer only.",
    responses=problem_responses(
        ValidationFailed, GrantAboveGranter, RoleNotFound, ServiceAccountNameTaken
    ),
)
async def create_service_account(
    body: schemas.ServiceAccountCreate,
    principal: ServiceAccountsWrite,
    session: DbSession,
    runtime: RuntimeDep,
) -> schemas.ServiceAccountCreated:
    service = ServiceAccountService(session, principal, runtime.keyring)
    issued = await service.create(body, runtime.clock.now())
    return schemas.ServiceAccountCreated(service_account=issued.view, client_secret=issued.secret)


@router.get(
    "",
    summary="List service accounts",
    description="Newest first. Pass `next_cursor` back as `cursor` for the next page.",
    responses=problem_responses(InvalidCursor),
)
async def list_service_accounts(
    principal: ServiceAccountsRead,
    session: DbSession,
    runtime: RuntimeDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[schemas.ServiceAccount]:
    service = ServiceAccountService(session, principal, runtime.keyring)
    items, next_cursor = await service.page(cursor=cursor, limit=limit)
    return Page[schemas.ServiceAccount](items=items, next_cursor=next_cursor)


@router.get(
    "/{account_id}",
    summary="Get a service account",
    responses=problem_responses(ServiceAccountNotFound, ValidationFailed),
)
async def get_service_account(
    account_id: UUID, principal: ServiceAccountsRead, session: DbSession, runtime: RuntimeDep
) -> schemas.ServiceAccount:
    return await ServiceAccountService(session, principal, runtime.keyring).get(account_id)


@router.patch(
    "/{account_id}",
    summary="Change a service account",
    description="Name, description, roles (the whole set; only roles you may grant and "
    "take away) and `disabled` (a disabled account gets no tokens and its live tokens are "
    "refused).",
    responses=problem_responses(
        ServiceAccountNotFound,
        ValidationFailed,
        GrantAboveGranter,
        RoleNotFound,
        ServiceAccountNameTaken,
        LastAdmin,
    ),
)
async def update_service_account(
    account_id: UUID,
    body: schemas.ServiceAccountUpdate,
    principal: ServiceAccountsWrite,
    session: DbSession,
    runtime: RuntimeDep,
) -> schemas.ServiceAccount:
    service = ServiceAccountService(session, principal, runtime.keyring)
    return await service.update(account_id, body, runtime.clock.now())


@router.post(
    "/{account_id}/rotate-secret",
    summary="Rotate a service account's secret",
    description="A new `client_secret`, in this answer only; the old one stops working at "
    "once (access tokens already issued run until they expire).",
    responses=problem_responses(
        ServiceAccountNotFound, ValidationFailed, GrantAboveGranter, StepUpRequired
    ),
)
async def rotate_service_account_secret(
    account_id: UUID, principal: ServiceAccountsRotate, session: DbSession, runtime: RuntimeDep
) -> schemas.ServiceAccountCreated:
    service = ServiceAccountService(session, principal, runtime.keyring)
    issued = await service.rotate_secret(account_id, runtime.clock.now())
    return schemas.ServiceAccountCreated(service_account=issued.view, client_secret=issued.secret)


@router.delete(
    "/{account_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a service account",
    description="Its roles and membership go with it; its tokens are refused from then on.",
    responses=problem_responses(
        ServiceAccountNotFound, ValidationFailed, GrantAboveGranter, LastAdmin
    ),
)
async def delete_service_account(
    account_id: UUID, principal: ServiceAccountsWrite, session: DbSession, runtime: RuntimeDep
) -> Response:
    await ServiceAccountService(session, principal, runtime.keyring).delete(account_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
