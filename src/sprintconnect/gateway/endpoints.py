"""HTTP routes: toolsets, and the measured calls of the caller."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status

from sprintconnect.db.session import DbSession, RuntimeDep
from sprintconnect.errors import InvalidCursor, problem_responses
from sprintconnect.gateway.deps import ToolsetCacheDep, ToolsetsRead, ToolsetsWrite, ToolsInvoke
from sprintconnect.gateway.errors import ToolsetNameTaken, ToolsetNotFound
from sprintconnect.gateway.repository import CallRepository
from sprintconnect.gateway.schemas import (
    CallPage,
    ExposedTools,
    ToolsetCreate,
    ToolsetOut,
    ToolsetPage,
    ToolsetUpdate,
)
from sprintconnect.gateway.service import ToolsetService
from sprintconnect.gateway.views import call_out, exposed_out, toolset_out
from sprintconnect.kit.pagination import (
    DEFAULT_LIMIT,
    CursorParam,
    LimitParam,
    decode_key,
    encode_key,
)
from sprintconnect.kit.responses import AUTHENTICATED

router = APIRouter(prefix="/api/v1", responses=AUTHENTICATED)
NOT_FOUND = problem_responses(ToolsetNotFound)


@router.post(
    "/toolsets",
    tags=["Gateway"],
    status_code=status.HTTP_201_CREATED,
    summary="Create a toolset: servers and tools served as one MCP endpoint",
    responses=problem_responses(ToolsetNameTaken),
)
async def create_toolset(
    body: ToolsetCreate,
    principal: ToolsetsWrite,
    session: DbSession,
    runtime: RuntimeDep,
    cache: ToolsetCacheDep,
    response: Response,
    request: Request,
) -> ToolsetOut:
    service = ToolsetService(session, principal, runtime.clock, request.app.state.authorizer)
    toolset = await service.create(body)
    cache.forget(principal.org_id)
    out = toolset_out(toolset, principal.org_slug, await service.servers_of([toolset]))
    response.headers["Location"] = f"/api/v1/toolsets/{toolset.id}"
    return out


@router.get("/toolsets", tags=["Gateway"], summary="List toolsets, by name")
async def list_toolsets(
    principal: ToolsetsRead,
    session: DbSession,
    runtime: RuntimeDep,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> ToolsetPage:
    after = None
    if cursor is not None:
        (after_value,) = decode_key(cursor, 1)
        if not isinstance(after_value, str):
            raise InvalidCursor()
        after = after_value
    service = ToolsetService(session, principal, runtime.clock)
    rows = await service.page(after, limit + 1)
    page = rows[:limit]
    servers = await service.servers_of(page)
    return ToolsetPage(
        items=[toolset_out(t, principal.org_slug, servers) for t in page],
        next_cursor=encode_key(page[-1].name) if len(rows) > limit and page else None,
    )


@router.get("/toolsets/{toolset_id}", tags=["Gateway"], summary="A toolset", responses=NOT_FOUND)
async def get_toolset(
    toolset_id: UUID, principal: ToolsetsRead, session: DbSession, runtime: RuntimeDep
) -> ToolsetOut:
    service = ToolsetService(session, principal, runtime.clock)
    toolset = await service.get(toolset_id)
    return toolset_out(toolset, principal.org_slug, await service.servers_of([toolset]))


@router.get(
    "/toolsets/{toolset_id}/tools",
    tags=["Gateway"],
    summary="What a toolset exposes now, under which names",
    responses=NOT_FOUND,
)
async def toolset_tools(
    toolset_id: UUID, principal: ToolsetsRead, session: DbSession, runtime: RuntimeDep
) -> ExposedTools:
    service = ToolsetService(session, principal, runtime.clock)
    exposure, _ = await service.exposure(await service.get(toolset_id))
    return exposed_out(exposure)


@router.patch(
    "/toolsets/{toolset_id}",
    tags=["Gateway"],
    summary="Change a toolset (servers are replaced as a whole)",
    responses=NOT_FOUND,
)
async def update_toolset(
    toolset_id: UUID,
    body: ToolsetUpdate,
    principal: ToolsetsWrite,
    session: DbSession,
    runtime: RuntimeDep,
    cache: ToolsetCacheDep,
    request: Request,
) -> ToolsetOut:
    service = ToolsetService(session, principal, runtime.clock, request.app.state.authorizer)
    toolset = await service.update(toolset_id, body)
    cache.forget(principal.org_id)
    return toolset_out(toolset, principal.org_slug, await service.servers_of([toolset]))


@router.delete(
    "/toolsets/{toolset_id}",
    tags=["Gateway"],
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a toolset (its endpoint answers 404 from then on)",
    responses=NOT_FOUND,
)
async def delete_toolset(
    toolset_id: UUID,
    principal: ToolsetsWrite,
    session: DbSession,
    runtime: RuntimeDep,
    cache: ToolsetCacheDep,
) -> Response:
    await ToolsetService(session, principal, runtime.clock).delete(toolset_id)
    cache.forget(principal.org_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/tool-calls",
    tags=["Playground"],
    summary="Your recent calls (playground and gateway), newest first",
    description="A person sees every call made as them: through the console, with their "
    "access tokens and with their API keys. A key without a user (issued by an operator) "
    "sees its own calls.",
)
async def my_calls(
    principal: ToolsInvoke,
    session: DbSession,
    source: str | None = Query(default=None, pattern="^(gateway|playground)$"),
    server_id: UUID | None = None,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> CallPage:
    before = None
    if cursor is not None:
        at, row_id = decode_key(cursor, 2)
        if not isinstance(at, str) or not isinstance(row_id, int):
            raise InvalidCursor()
        try:
            before = (datetime.fromisoformat(at), row_id)
        except ValueError as exc:
            raise InvalidCursor() from exc
    caller = str(principal.actor.id or principal.user_id or "")
    rows = await CallRepository(session).recent(
        principal.org_id,
        caller_id=caller,
        caller_user_id=principal.user_id,
        source=source,
        server_id=server_id,
        before=before,
        limit=limit + 1,
    )
    page = rows[:limit]
    return CallPage(
        items=[call_out(r) for r in page],
        next_cursor=(encode_key(page[-1].at, page[-1].id) if len(rows) > limit and page else None),
    )
