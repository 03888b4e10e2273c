"""HTTP routes for discoveries and capability snapshots."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response, status

from sprintconnect.db.session import DbSession
from sprintconnect.discovery.schemas import (
    Capabilities,
    CapabilityOut,
    DiscoveryOut,
    DiscoveryRequest,
    SnapshotDiff,
    SnapshotSummary,
)
from sprintconnect.discovery.service import (
    DiscoveryNotFound,
    DiscoveryService,
    SnapshotNotFound,
)
from sprintconnect.discovery.views import discovery_out
from sprintconnect.discovery.waiting import (
    DEFAULT_WAIT_SECONDS,
    WaitParam,
    WaitTimeoutParam,
    until_finished,
)
from sprintconnect.errors import InvalidCursor, problem_responses
from sprintconnect.identity.deps import CapabilitiesRead, ServersRead, ServersWrite
from sprintconnect.kit.pagination import (
    DEFAULT_LIMIT,
    INT4_MAX,
    CursorParam,
    LimitParam,
    Page,
)
from sprintconnect.kit.responses import AUTHENTICATED
from sprintconnect.mcp_server.deps import ServerDeps
from sprintconnect.mcp_server.service import ServerNotFound

router = APIRouter(prefix="/api/v1", tags=["Discovery"], responses=AUTHENTICATED)
Version = Annotated[int, Path(ge=1, le=INT4_MAX)]


@router.post(
    "/servers/{server_id}/discoveries",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Discover a server's capabilities",
    description="Queues a discovery and answers at once (`202`); follow it at "
    "`GET /api/v1/discoveries/{id}`. While one is queued or running for the server, the same "
    "request answers that one (header `X-Discovery-Reused: true`). With `wait=true` the "
    "answer waits for the discovery to finish: `200` with the finished discovery, or `202` "
    "as without `wait` when `wait_timeout` runs out first.",
    responses={
        status.HTTP_200_OK: {
            "model": DiscoveryOut,
            "description": "With `wait=true`: the discovery has finished.",
        },
        **problem_responses(ServerNotFound),
    },
)
async def request_discovery(
    server_id: UUID,
    principal: ServersWrite,
    session: DbSession,
    deps: ServerDeps,
    response: Response,
    body: DiscoveryRequest | None = None,
    wait: WaitParam = False,
    wait_timeout: WaitTimeoutParam = DEFAULT_WAIT_SECONDS,
) -> DiscoveryOut:
    service = DiscoveryService(session, principal, deps)
    discovery, created = await service.request(
        server_id, force_refresh=bool(body and body.force_refresh)
    )
    response.headers["Location"] = f"/api/v1/discoveries/{discovery.id}"
    if not created:
        response.headers["X-Discovery-Reused"] = "true"
    if wait:
        if await until_finished(session, principal.org_id, discovery.id, wait_timeout):
            response.status_code = status.HTTP_200_OK
        return discovery_out(await service.get(discovery.id))  # as it is now
    return discovery_out(await service.view(discovery))


@router.get(
    "/servers/{server_id}/discoveries",
    summary="A server's discoveries, newest first",
    description="Every discovery requested for the server, queued, running or finished. "
    "Pass `next_cursor` back as `cursor` for the next page.",
    responses=problem_responses(ServerNotFound, InvalidCursor),
)
async def list_discoveries(
    server_id: UUID,
    principal: ServersRead,
    session: DbSession,
    deps: ServerDeps,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[DiscoveryOut]:
    views, next_cursor = await DiscoveryService(session, principal, deps).history(
        server_id, cursor=cursor, limit=limit
    )
    return Page[DiscoveryOut](items=[discovery_out(v) for v in views], next_cursor=next_cursor)


@router.get(
    "/discoveries/{discovery_id}",
    summary="A discovery's status",
    responses=problem_responses(DiscoveryNotFound),
)
async def get_discovery(
    discovery_id: UUID, principal: ServersRead, session: DbSession, deps: ServerDeps
) -> DiscoveryOut:
    return discovery_out(await DiscoveryService(session, principal, deps).get(discovery_id))


@router.get(
    "/servers/{server_id}/capabilities",
    summary="The server's capabilities as of its latest snapshot",
    responses=problem_responses(ServerNotFound, SnapshotNotFound),
)
async def get_capabilities(
    server_id: UUID,
    principal: CapabilitiesRead,
    session: DbSession,
    deps: ServerDeps,
    version: Annotated[
        int | None, Query(ge=1, le=INT4_MAX, description="An earlier snapshot.")
    ] = None,
) -> Capabilities:
    snapshot, items = await DiscoveryService(session, principal, deps).snapshot(server_id, version)
    return Capabilities(
        server_id=server_id,
        snapshot=SnapshotSummary.model_validate(snapshot),
        capabilities=snapshot.capabilities,
        items=[
            CapabilityOut(
                kind=i.kind,
                name=i.name,
                title=i.title,
                description=i.description,
                definition=i.body,
            )
            for i in items
        ],
    )


@router.get(
    "/servers/{server_id}/snapshots",
    summary="Snapshot history, newest first",
    description="Pass `next_cursor` back as `cursor` for the next page.",
    responses=problem_responses(ServerNotFound, InvalidCursor),
)
async def list_snapshots(
    server_id: UUID,
    principal: CapabilitiesRead,
    session: DbSession,
    deps: ServerDeps,
    cursor: CursorParam = None,
    limit: LimitParam = DEFAULT_LIMIT,
) -> Page[SnapshotSummary]:
    rows, next_cursor = await DiscoveryService(session, principal, deps).snapshots_page(
        server_id, cursor=cursor, limit=limit
    )
    return Page[SnapshotSummary](
        items=[SnapshotSummary.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.get(
    "/servers/{server_id}/snapshots/{a}/diff/{b}",
    summary="What changed between two snapshots",
    responses=problem_responses(ServerNotFound, SnapshotNotFound),
)
async def diff_snapshots(
    server_id: UUID,
    a: Version,
    b: Version,
    principal: CapabilitiesRead,
    session: DbSession,
    deps: ServerDeps,
) -> SnapshotDiff:
    change = await DiscoveryService(session, principal, deps).diff(server_id, a, b)
    return SnapshotDiff(server_id=server_id, from_version=a, to_version=b, **change)
