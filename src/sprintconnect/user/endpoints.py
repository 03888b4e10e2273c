"""HTTP routes for organization members and their roles."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response, status

from sprintconnect.api_key.schemas import ApiKey, ApiKeyCreate, ApiKeyCreated
from sprintconnect.api_key.service import ApiKeyService, KeyReachAboveGranter, ScopeAboveGranter
from sprintconnect.db.session import DbSession, RuntimeDep
from sprintconnect.errors import (
    InsufficientScope,
    InvalidCursor,
    ValidationFailed,
    problem_responses,
)
from sprintconnect.identity.auth import require
from sprintconnect.identity.deps import UsersRead, UsersWrite
from sprintconnect.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from sprintconnect.kit.responses import AUTHENTICATED
from sprintconnect.notification.service import forget_member
from sprintconnect.role.schemas import ROLE_NAME_PATTERN
from sprintconnect.role.service import GrantAboveGranter, LastAdmin, RoleNotFound
from sprintconnect.user.schemas import Member, MemberCreate
from sprintconnect.user.service import AlreadyMember, MemberNotFound, MemberService

router = APIRouter(prefix="/api/v1/users", tags=["Users"], responses=AUTHENTICATED)
RoleName = Annotated[str, Path(pattern=ROLE_NAME_PATTERN)]


@router.get("", summary="List members with their roles", responses=problem_responses(InvalidCursor))
async def list_members(
    principal: UsersRead,
    session: DbSession,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Page[Member]:
    items, next_cursor = await MemberService(session, principal).page(cursor=cursor, limit=limit)
    return Page[Member](items=items, next_cursor=next_cursor)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Add a member",
    description="Adds the user with this email (created on first sight) with the given roles.",
    responses=problem_responses(AlreadyMember, GrantAboveGranter, RoleNotFound),
)
async def add_member(body: MemberCreate, principal: UsersWrite, session: DbSession) -> Member:
    return await MemberService(session, principal).add(body)


@router.get("/{user_id}", summary="Get a member", responses=problem_responses(MemberNotFound))
async def get_member(user_id: UUID, principal: UsersRead, session: DbSession) -> Member:
    return await MemberService(session, principal).get(user_id)


@router.delete(
    "/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a member",
    description="Their roles go with them, and every API key they own here is revoked in the "
    "same step (audited). Removing a platform super admin takes every permission.",
    responses=problem_responses(MemberNotFound, LastAdmin, GrantAboveGranter),
)
async def remove_member(
    user_id: UUID, principal: UsersWrite, session: DbSession, runtime: RuntimeDep, request: Request
) -> Response:
    await MemberService(session, principal).remove(user_id, runtime.clock.now())
    # Their notification channels go with them: a Slack URL or webhook secret left in the
    # store would outlive the membership that gave it a purpose.
    await forget_member(request.app.state.secret_store, principal.org_id, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put(
    "/{user_id}/roles/{role}",
    summary="Assign a role",
    description="Takes effect on the member's next request. You can only assign roles whose "
    "permissions you hold.",
    responses=problem_responses(MemberNotFound, RoleNotFound, GrantAboveGranter),
)
async def assign_role(
    user_id: UUID, role: RoleName, principal: UsersWrite, session: DbSession
) -> Member:
    return await MemberService(session, principal).assign(user_id, role)


@router.delete(
    "/{user_id}/roles/{role}",
    summary="Remove a role",
    description="Takes effect on the member's next request.",
    responses=problem_responses(MemberNotFound, LastAdmin),
)
async def unassign_role(
    user_id: UUID, role: RoleName, principal: UsersWrite, session: DbSession
) -> Member:
    return await MemberService(session, principal).unassign(user_id, role)


@router.post(
    "/{user_id}/api-keys",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key for a member",
    description="Needs `users:write` and `api_keys:write`. The key belongs to the member: it "
    "acts with the member's roles, read on every request, intersected with its scopes, and is "
    "revoked when they leave. Hand it over yourself; it is in the answer's `key` field this "
    "once. You cannot give it scopes your own key lacks, nor a reach (its scopes intersected "
    "with the member's permissions) beyond your own permissions.",
    responses=problem_responses(
        MemberNotFound, ValidationFailed, InsufficientScope, ScopeAboveGranter, KeyReachAboveGranter
    ),
)
async def create_member_api_key(
    user_id: UUID,
    body: ApiKeyCreate,
    request: Request,
    principal: UsersWrite,
    session: DbSession,
    runtime: RuntimeDep,
) -> ApiKeyCreated:
    await require(request, session, principal, "api_keys:write")
    await MemberService(session, principal).get(user_id)  # 404 unless a member here
    issued = await ApiKeyService(session, runtime.keyring, runtime.clock).issue_for_member(
        principal,
        user_id,
        name=body.name,
        description=body.description,
        scopes=body.scopes,
        expires_at=body.expiry(runtime.clock.now()),
    )
    return ApiKeyCreated(
        api_key=ApiKey.of(issued.record, runtime.clock.now()), key=issued.plaintext
    )
