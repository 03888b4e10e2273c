"""HTTP routes of the playground: call one tool, read one resource, get one prompt.

A JSON answer by default. With ``Accept: text/event-stream`` the answer is a stream of
server-sent events: ``progress`` (``{"progress", "total", "message"}``) as the server reports
it, then one ``result`` (an ``InvocationOut``) or one ``problem`` (problem+json). Closing the
stream cancels the call on the server.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from sprintconnect.db.session import DbSession
from sprintconnect.errors import SprintConnectError, problem_responses
from sprintconnect.gateway.calls import (
    Gateway,
    Kind,
    Outcome,
    Target,
    Ticket,
    capability_class,
    let_through,
    perform,
)
from sprintconnect.gateway.deps import GatewayDep, ToolsInvoke
from sprintconnect.gateway.errors import (
    CapabilityChanged,
    CapabilityNotFound,
    CapabilityThrottled,
    ToolArgumentsInvalid,
    UpstreamFailed,
    UpstreamTimeout,
)
from sprintconnect.gateway.repository import ToolsetRepository
from sprintconnect.gateway.schemas import (
    InvocationOut,
    InvokeRequest,
    PromptRequest,
    ResourceReadRequest,
)
from sprintconnect.identity.principal import Principal
from sprintconnect.mcp_server.deps import ServerDeps
from sprintconnect.mcp_server.service import McpServerService, ServerNotFound
from sprintconnect.models import McpServer
from sprintconnect.organization.repository import OrganizationRepository

router = APIRouter(prefix="/api/v1/servers", tags=["Playground"])
NamePath = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.\-/]+$")]
RESPONSES = problem_responses(
    ServerNotFound,
    CapabilityNotFound,
    ToolArgumentsInvalid,
    CapabilityThrottled,
    UpstreamFailed,
    UpstreamTimeout,
    CapabilityChanged,
)
STREAM_DOC = {
    "description": "The result, or with `Accept: text/event-stream` a stream of `progress` "
    "events ending with one `result` or `problem` event.",
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
}


def invocation_out(target: Target, outcome: Outcome) -> InvocationOut:
    is_error = target.kind == "tool" and outcome.result.get("isError") is True
    return InvocationOut(
        server_id=target.server.id,
        kind=target.kind,
        name=target.name,
        status="tool_error" if is_error else "ok",
        is_error=is_error,
        result=outcome.result,
        duration_ms=outcome.duration_ms,
        request_bytes=outcome.request_bytes,
        response_bytes=outcome.response_bytes,
        estimated_tokens=(outcome.request_bytes + outcome.response_bytes + 3) // 4,
        capability_class=target.capability_class,
        decision_id=outcome.decision_id,
        redacted=outcome.redacted,
    )


async def _target(
    session: AsyncSession,
    principal: Principal,
    deps: Any,
    server_id: UUID,
    kind: Kind,
    name: str,
) -> Target:
    server: McpServer = await McpServerService(session, principal, deps).get(server_id)
    repo = ToolsetRepository(session)
    if kind == "resource":
        item = await repo.latest_item(principal.org_id, server.id, "resource", name)
        return Target(server, kind, name, item, "read")
    item = await repo.latest_item(principal.org_id, server.id, kind, name)
    if item is None:
        raise CapabilityNotFound(
            f"The latest capability snapshot of '{server.name}' has no {kind} '{name}'. Run a "
            f"discovery (POST /api/v1/servers/{server.id}/discoveries) if the server has it now."
        )
    return Target(server, kind, name, item, capability_class(item, kind))


async def _run(
    request: Request,
    gw: Gateway,
    session: AsyncSession,
    principal: Principal,
    target: Target,
    arguments: dict[str, Any],
    timeout_seconds: float | None,
) -> InvocationOut | StreamingResponse:
    org = await OrganizationRepository(session).get(principal.org_id)
    assert org is not None
    ticket = await let_through(
        gw,
        session,
        principal,
        target,
        arguments=arguments,
        source="playground",
        org_limits=org.gateway_limits,
        policy=gw.policy(org),
        deadline=gw.deadline(timeout_seconds),
    )
    if "text/event-stream" in request.headers.get("accept", ""):
        return StreamingResponse(
            _stream(request, gw, ticket),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
    return invocation_out(target, await perform(gw, ticket))


# Calls whose stream closed, kept referenced until their cancellation has run its course.
_WINDING_DOWN: set[asyncio.Task[None]] = set()


def _event(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, default=str)}\n\n".encode()


async def _stream(request: Request, gw: Gateway, ticket: Ticket) -> AsyncIterator[bytes]:
    """Progress as it comes, then the result; the call is cancelled if the stream closes."""
    events: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def forward(progress: float, total: float | None, message: str | None) -> None:
        await events.put(
            _event("progress", {"progress": progress, "total": total, "message": message})
        )

    async def call() -> None:
        try:
            outcome = await perform(gw, ticket, forward)
            await events.put(
                _event("result", invocation_out(ticket.target, outcome).model_dump(mode="json"))
            )
        except SprintConnectError as exc:
            request_id = request.scope.get("state", {}).get("request_id")
            problem = exc.to_problem(instance=request.url.path, request_id=request_id)
            await events.put(_event("problem", problem.model_dump(mode="json", exclude_none=True)))
        finally:
            await events.put(None)

    task = asyncio.create_task(call())
    try:
        while (chunk := await events.get()) is not None:
            yield chunk
    finally:
        if not task.done():
            # Cancelled once, then left to wind down on its own: this generator is being
            # cancelled itself (the client went away), and awaiting the call here would
            # cancel it again mid-way, before the SDK has told the server to stop.
            task.cancel()
            _WINDING_DOWN.add(task)
            task.add_done_callback(_WINDING_DOWN.discard)


class Playground:
    """What every playground route needs: the caller, the request's session and the gateway."""

    def __init__(
        self,
        principal: ToolsInvoke,
        session: DbSession,
        deps: ServerDeps,
        gw: GatewayDep,
        request: Request,
    ) -> None:
        self.principal = principal
        self.session = session
        self.deps = deps
        self.gw = gw
        self.request = request

    async def call(
        self,
        server_id: UUID,
        kind: Kind,
        name: str,
        arguments: dict[str, Any],
        timeout_seconds: float | None,
    ) -> InvocationOut | StreamingResponse:
        target = await _target(self.session, self.principal, self.deps, server_id, kind, name)
        return await _run(
            self.request, self.gw, self.session, self.principal, target, arguments, timeout_seconds
        )


PlaygroundDep = Annotated[Playground, Depends()]


@router.post(
    "/{server_id}/tools/{name}/invoke",
    summary="Call a tool of the server (playground)",
    response_model=InvocationOut,
    responses={**RESPONSES, 200: STREAM_DOC},
)
async def invoke_tool(
    server_id: UUID, name: NamePath, body: InvokeRequest, playground: PlaygroundDep
) -> InvocationOut | StreamingResponse:
    return await playground.call(server_id, "tool", name, body.arguments, body.timeout_seconds)


@router.post(
    "/{server_id}/resources/read",
    summary="Read a resource of the server (playground)",
    response_model=InvocationOut,
    responses={**RESPONSES, 200: STREAM_DOC},
)
async def read_resource(
    server_id: UUID, body: ResourceReadRequest, playground: PlaygroundDep
) -> InvocationOut | StreamingResponse:
    return await playground.call(server_id, "resource", body.uri, {}, body.timeout_seconds)


@router.post(
    "/{server_id}/prompts/{name}/get",
    summary="Get a prompt of the server (playground)",
    response_model=InvocationOut,
    responses={**RESPONSES, 200: STREAM_DOC},
)
async def get_prompt(
    server_id: UUID, name: NamePath, body: PromptRequest, playground: PlaygroundDep
) -> InvocationOut | StreamingResponse:
    arguments: dict[str, Any] = dict(body.arguments)
    return await playground.call(server_id, "prompt", name, arguments, body.timeout_seconds)
