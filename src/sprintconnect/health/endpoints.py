"""HTTP routes for server health: details, history, and checks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status

from sprintconnect.db.session import DbSession, get_runtime, release_connection
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.errors import InvalidCursor, problem_responses
from sprintconnect.health import service as health_service
from sprintconnect.health.history import HealthReader
from sprintconnect.health.repository import HealthRepository
from sprintconnect.health.schemas import (
    Bucket,
    CheckQueued,
    CheckResult,
    HealthDetails,
    HealthHistory,
)
from sprintconnect.health.views import check_result
from sprintconnect.identity.auth import Authenticator
from sprintconnect.identity.principal import Principal
from sprintconnect.jobs.context import TaskServices
from sprintconnect.kit.outbound import OutboundBusy, OutboundLimiterDep
from sprintconnect.kit.pagination import MAX_LIMIT
from sprintconnect.kit.responses import AUTHENTICATED
from sprintconnect.mcp_server.deps import NetworkDep, ServerDeps, TokenCacheDep
from sprintconnect.mcp_server.service import McpServerService, ServerNotFound

router = APIRouter(prefix="/api/v1/servers", tags=["Server health"], responses=AUTHENTICATED)

HealthRead = Annotated[Principal, Depends(Authenticator("health:read"))]


@router.get(
    "/{server_id}/health",
    summary="A server's health: status, last check, schedule",
    description="The status as of the last check (`unknown` before the first), the last "
    "check's time, response time and error with guidance, the failure streak, when the next "
    "check is due, and the escalation thresholds in effect.",
    responses=problem_responses(ServerNotFound),
)
async def get_health(
    server_id: UUID, principal: HealthRead, session: DbSession, deps: ServerDeps
) -> HealthDetails:
    return await HealthReader(session, principal, deps).details(server_id)


@router.get(
    "/{server_id}/health/history",
    summary="A server's health over a time range",
    description="Status changes (`timeline`, with the status in force at `from`), uptime and "
    "response-time percentiles over the range, and `buckets` for a chart. Read from hourly "
    "rollups: the range is widened to whole hours (`from` down, `to` up), and the answer's "
    "`from` and `to` say which hours it covers. Default: the last 24 hours; at most 400 days.",
    responses=problem_responses(ServerNotFound, InvalidCursor),
)
async def get_health_history(
    server_id: UUID,
    principal: HealthRead,
    session: DbSession,
    deps: ServerDeps,
    from_: Annotated[
        datetime | None,
        Query(
            alias="from",
            description="ISO 8601 start (UTC when no offset is given); default `to` - 24 h.",
        ),
    ] = None,
    to: Annotated[
        datetime | None,
        Query(description="ISO 8601 end (exclusive; UTC when no offset is given); default now."),
    ] = None,
    bucket: Annotated[
        Bucket | None,
        Query(
            description="Chart resolution: `hour` (allowed up to 31 days) or `day` (UTC days). "
            "Default: `hour` up to 7 days, `day` beyond."
        ),
    ] = None,
    cursor: Annotated[
        str | None,
        Query(max_length=512, description="The timeline's `next_cursor`, with the same range."),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="Timeline entries per page.")
    ] = 100,
) -> HealthHistory:
    return await HealthReader(session, principal, deps).history(
        server_id, start=from_, end=to, bucket=bucket, cursor=cursor, limit=limit
    )


HealthWrite = Annotated[Principal, Depends(Authenticator("health:write"))]


@router.post(
    "/{server_id}/health/checks",
    summary="Check a server now",
    description="Runs a check of the server's configured type now, through the same path as "
    "scheduled checks (recorded in its history, status and events; trigger `manual`), within "
    "`SPRINTCONNECT_HEALTH_CHECK_TIMEOUT_SECONDS`, and answers its result. With `wait=false` "
    "the check is queued as a job instead: `202` with the job's id; the result then shows in "
    "`GET /api/v1/servers/{id}/health`. An organization runs at most "
    "`SPRINTCONNECT_OUTBOUND_CONCURRENCY_PER_ORG` outbound checks at once; beyond that the "
    "answer is 429 with `Retry-After`.",
    responses={
        status.HTTP_202_ACCEPTED: {
            "model": CheckQueued,
            "description": "With `wait=false`: the check is queued.",
        },
        **problem_responses(ServerNotFound, OutboundBusy),
    },
)
async def check_now(
    server_id: UUID,
    principal: HealthWrite,
    session: DbSession,
    deps: ServerDeps,
    request: Request,
    response: Response,
    network: NetworkDep,
    tokens: TokenCacheDep,
    limiter: OutboundLimiterDep,
    wait: Annotated[
        bool,
        Query(description="`false`: queue the check as a job and answer `202` at once."),
    ] = True,
) -> CheckResult | CheckQueued:
    org_id = principal.org_id
    await McpServerService(session, principal, deps).get(server_id, action="health:write")
    if not wait:
        job_id = await HealthRepository(session).defer_check(server_id, org_id, principal.actor)
        response.status_code = status.HTTP_202_ACCEPTED
        return CheckQueued(
            server_id=server_id,
            job_id=job_id,
            health_url=f"/api/v1/servers/{server_id}/health",
        )
    services = TaskServices(
        runtime=get_runtime(request), secrets=deps.secrets, network=network, tokens=tokens
    )
    target = await health_service.prepare(session, services, org_id, server_id)
    if target is None:
        raise ServerNotFound(f"No MCP server has the id {server_id} in this organization.")
    # Read, release, call out (ADR 0005): no pooled connection is held during the check.
    await release_connection(session)
    settings = deps.settings
    budget = settings.health_check_timeout_seconds + settings.vault_timeout_seconds
    async with limiter.slot(org_id, seconds=budget):
        result = await health_service.check(services, target)
    await bind_tenant(session, org_id)  # a new transaction: bind it again
    recorded = await health_service.record(
        session,
        org_id=org_id,
        server_id=server_id,
        check_type=target.check_type,
        trigger="manual",
        result=result,
        now=deps.clock.now(),
        actor=principal.actor,
    )
    if recorded is None:  # deleted while it was being checked
        raise ServerNotFound(f"No MCP server has the id {server_id} in this organization.")
    await health_service.audit_manual_check(session, org_id, principal.actor, recorded)
    return check_result(recorded)
