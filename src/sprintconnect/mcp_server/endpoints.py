"""HTTP routes for the MCP server registry."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from sprintconnect.db.session import DbSession, release_connection
from sprintconnect.discovery.service import DiscoveryService, queue_discovery
from sprintconnect.discovery.views import discovery_out
from sprintconnect.discovery.waiting import (
    DEFAULT_WAIT_SECONDS,
    WaitParam,
    WaitTimeoutParam,
    until_finished,
)
from sprintconnect.egress import EgressDenied, EgressRateLimited
from sprintconnect.errors import InvalidCursor, problem_responses
from sprintconnect.health.schemas import HealthStatus
from sprintconnect.identity.deps import ServersDelete, ServersRead, ServersWrite
from sprintconnect.identity.session.errors import StepUpRequired
from sprintconnect.kit.outbound import OutboundBusy, OutboundLimiterDep
from sprintconnect.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from sprintconnect.kit.responses import AUTHENTICATED
from sprintconnect.mcp_server import connector, credentials
from sprintconnect.mcp_server.deps import NetworkDep, ServerDeps, TokenCacheDep
from sprintconnect.mcp_server.failures import GUIDANCE
from sprintconnect.mcp_server.repository import ServerFilter
from sprintconnect.mcp_server.schemas import (
    ENVIRONMENT_PATTERN,
    TAG_PATTERN,
    ConnectionCheck,
    Server,
    ServerCreate,
    ServerPage,
    ServerRegistered,
    ServerUpdate,
    Status,
)
from sprintconnect.mcp_server.service import (
    McpServerService,
    ServerNameTaken,
    ServerNotFound,
    ServerQuotaExceeded,
)
from sprintconnect.mcp_server.views import server_out
from sprintconnect.secret import SecretNotFound, SecretStoreUnavailable

router = APIRouter(prefix="/api/v1/servers", tags=["MCP servers"], responses=AUTHENTICATED)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register an MCP server",
    description="Everything is validated before anything is stored: the URL against the egress "
    "policy (no connection is made), names unique per environment, credentials well formed. "
    "Credentials are write-only: answers say which kind is set, never the values. With "
    "`wait=true` and `auto_discover`, the answer waits for the first discovery to finish "
    "(`discovery` in the answer); if `wait_timeout` runs out first the answer is `202`, with "
    "the server registered and the discovery still running (`Location` names it).",
    responses={
        status.HTTP_202_ACCEPTED: {
            "model": ServerRegistered,
            "description": "With `wait=true`: registered; the discovery had not finished when "
            "`wait_timeout` ran out.",
        },
        **problem_responses(EgressDenied, EgressRateLimited, ServerNameTaken, ServerQuotaExceeded),
    },
)
async def register_server(
    body: ServerCreate,
    principal: ServersWrite,
    session: DbSession,
    deps: ServerDeps,
    response: Response,
    wait: WaitParam = False,
    wait_timeout: WaitTimeoutParam = DEFAULT_WAIT_SECONDS,
) -> ServerRegistered:
    server = await McpServerService(session, principal, deps).register(body)
    steps = [
        f"Check connectivity and credentials: POST /api/v1/servers/{server.id}/connection-check"
    ]
    discovery_id = None
    if server.auto_discover:
        discovery, _ = await queue_discovery(
            session,
            server,
            force_refresh=False,
            requested_by=principal.user_id,
            actor=principal.actor,
        )
        discovery_id = discovery.id
        if wait:
            finished = await until_finished(session, principal.org_id, discovery.id, wait_timeout)
            server_id = server.id
            session.expire(server)  # its status may have changed with the discovery
            server = await McpServerService(session, principal, deps).get(server_id)
            shown = discovery_out(
                await DiscoveryService(session, principal, deps).get(discovery.id)
            )
            if finished:
                steps.append(f"See the capabilities: GET /api/v1/servers/{server.id}/capabilities")
            else:
                response.status_code = status.HTTP_202_ACCEPTED
                response.headers["Location"] = f"/api/v1/discoveries/{discovery.id}"
                steps.append(
                    f"Capability discovery is still running: GET /api/v1/discoveries/{discovery.id}"
                )
            return ServerRegistered(
                server=server_out(server),
                discovery_id=discovery_id,
                discovery=shown,
                next_steps=steps,
            )
        steps.append(f"Capability discovery is queued: GET /api/v1/discoveries/{discovery.id}")
    else:
        steps.append(f"Start capability discovery: POST /api/v1/servers/{server.id}/discoveries")
    return ServerRegistered(server=server_out(server), discovery_id=discovery_id, next_steps=steps)


@router.get(
    "",
    summary="List MCP servers",
    description="Filters combine; `tag` may repeat and all tags must match. Servers your role or "
    "your organization's policies do not let you see are left out; `removed_by_policy` counts "
    "those hidden by policy on this page.",
    responses=problem_responses(InvalidCursor),
)
async def list_servers(
    principal: ServersRead,
    session: DbSession,
    deps: ServerDeps,
    environment: Annotated[str | None, Query(pattern=ENVIRONMENT_PATTERN)] = None,
    tag: Annotated[list[Annotated[str, Query(pattern=TAG_PATTERN)]] | None, Query()] = None,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    name: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description="Exactly this name (any case), e.g. to check that a name is free.",
        ),
    ] = None,
    health: Annotated[HealthStatus | None, Query(description="The current health status.")] = None,
    sort: Literal["created_at", "-created_at", "name", "-name"] = "-created_at",
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> ServerPage:
    filters = ServerFilter(
        environment=environment,
        tags=tuple(sorted(set(tag or []))),
        status=status_,
        text=q,
        name=name.strip() if name else None,
        health=health,
    )
    rows, next_cursor, removed = await McpServerService(session, principal, deps).page(
        filters, sort=sort, cursor=cursor, limit=limit
    )
    return ServerPage(
        items=[server_out(s) for s in rows], next_cursor=next_cursor, removed_by_policy=removed
    )


@router.get(
    "/{server_id}", summary="Get an MCP server", responses=problem_responses(ServerNotFound)
)
async def get_server(
    server_id: UUID, principal: ServersRead, session: DbSession, deps: ServerDeps
) -> Server:
    return server_out(await McpServerService(session, principal, deps).get(server_id))


@router.patch(
    "/{server_id}",
    summary="Change an MCP server",
    description="Only the fields sent change. `auth` replaces the credentials; "
    '`{"type": "none"}` removes them.',
    responses=problem_responses(ServerNotFound, ServerNameTaken, EgressDenied),
)
async def update_server(
    server_id: UUID,
    body: ServerUpdate,
    principal: ServersWrite,
    session: DbSession,
    deps: ServerDeps,
) -> Server:
    return server_out(await McpServerService(session, principal, deps).update(server_id, body))


@router.delete(
    "/{server_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an MCP server and its credentials",
    responses=problem_responses(ServerNotFound, StepUpRequired),
)
async def delete_server(
    server_id: UUID, principal: ServersDelete, session: DbSession, deps: ServerDeps
) -> Response:
    await McpServerService(session, principal, deps).delete(server_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{server_id}/connection-check",
    summary="Connect to the server and run initialize",
    description="Reaches the server through the egress guard with its credentials, within "
    "`SPRINTCONNECT_MCP_CONNECT_TIMEOUT_SECONDS` overall. The answer says whether it worked; a "
    "failure carries a classified `reason` and guidance. An organization runs at most "
    "`SPRINTCONNECT_OUTBOUND_CONCURRENCY_PER_ORG` checks at once; beyond that the answer is "
    "429 with `Retry-After`.",
    responses=problem_responses(ServerNotFound, OutboundBusy, SecretStoreUnavailable),
)
async def connection_check(
    server_id: UUID,
    principal: ServersWrite,
    session: DbSession,
    deps: ServerDeps,
    network: NetworkDep,
    tokens: TokenCacheDep,
    limiter: OutboundLimiterDep,
) -> ConnectionCheck:
    service = McpServerService(session, principal, deps)
    server = await service.get(server_id, action="servers:write")
    policy = await service.egress_policy()
    # Read, release, call out: the remote party may take its whole deadline, and a pooled
    # connection held meanwhile is one every other tenant waits for (ADR 0005). Nothing is
    # written afterwards, so no transaction (nor tenant binding) is needed again.
    await release_connection(session)
    settings = deps.settings
    budget = settings.mcp_connect_timeout_seconds + settings.vault_timeout_seconds
    async with limiter.slot(principal.org_id, seconds=budget):
        secret = None
        if server.auth_type != "none":
            try:
                value = await deps.secrets.get(principal.org_id, credentials.secret_path(server.id))
                secret = value.reveal()
            except SecretNotFound:
                return ConnectionCheck(
                    ok=False,
                    latency_ms=0.0,
                    reason="auth_rejected",
                    error="the stored credentials are missing; set them again",
                )
        result = await connector.check_connection(
            server,
            secret,
            policy,
            network=network,
            cache=tokens,
            timeout_seconds=settings.mcp_connect_timeout_seconds,
        )
    return ConnectionCheck(
        ok=result.ok,
        latency_ms=result.latency_ms,
        protocol_version=result.protocol_version,
        server_name=result.server_name,
        server_version=result.server_version,
        reason=result.reason,
        error=(f"{result.error}. {GUIDANCE[result.reason]}" if result.reason else None),
    )
