"""HTTP routes for roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from sprintconnect.db.session import DbSession, RuntimeDep
from sprintconnect.errors import InvalidCursor, problem_responses
from sprintconnect.identity.deps import RolesRead, RolesWrite
from sprintconnect.kit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page
from sprintconnect.kit.responses import AUTHENTICATED
from sprintconnect.role.schemas import ROLE_NAME_PATTERN, RoleCreate, RoleOut, RoleUpdate
from sprintconnect.role.service import (
    BuiltInRoleImmutable,
    GrantAboveGranter,
    RoleCycle,
    RoleExists,
    RoleInUse,
    RoleNotFound,
    RoleService,
)

router = APIRouter(prefix="/api/v1/roles", tags=["Roles"], responses=AUTHENTICATED)
RoleName = Annotated[str, Path(pattern=ROLE_NAME_PATTERN, description="A role name.")]


@router.get(
    "",
    summary="List built-in and custom roles",
    description="Built-in roles first, then custom roles by name. Pass `next_cursor` back as "
    "`cursor` for the next page.",
    responses=problem_responses(InvalidCursor),
)
async def list_roles(
    principal: RolesRead,
    session: DbSession,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[RoleOut]:
    items, next_cursor = await RoleService(session, principal).page(cursor=cursor, limit=limit)
    return Page[RoleOut](items=items, next_cursor=next_cursor)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a custom role",
    description="A role may extend others (no cycles). You can only create roles whose "
    "permissions, inherited ones included, you hold yourself.",
    responses=problem_responses(RoleExists, RoleCycle, GrantAboveGranter),
)
async def create_role(body: RoleCreate, principal: RolesWrite, session: DbSession) -> RoleOut:
    return await RoleService(session, principal).create(body)


@router.get("/{name}", summary="Get a role", responses=problem_responses(RoleNotFound))
async def get_role(name: RoleName, principal: RolesRead, session: DbSession) -> RoleOut:
    return await RoleService(session, principal).get(name)


@router.patch(
    "/{name}",
    summary="Change a custom role",
    description="Members holding the role gain or lose permissions on their next request.",
    responses=problem_responses(RoleNotFound, BuiltInRoleImmutable, RoleCycle, GrantAboveGranter),
)
async def update_role(
    name: RoleName, body: RoleUpdate, principal: RolesWrite, session: DbSession, runtime: RuntimeDep
) -> RoleOut:
    return await RoleService(session, principal).update(name, body, runtime.clock.now())


@router.delete(
    "/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a custom role",
    responses=problem_responses(RoleNotFound, BuiltInRoleImmutable, RoleInUse),
)
async def delete_role(name: RoleName, principal: RolesWrite, session: DbSession) -> Response:
    await RoleService(session, principal).delete(name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
