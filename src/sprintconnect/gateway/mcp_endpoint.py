"""Toolsets as MCP servers: ``/mcp/{org slug}/{toolset}``, streamable HTTP, served by the SDK.

The endpoint is stateless (no ``Mcp-Session-Id``): every request carries its credentials and
is served by whichever replica receives it, so no sticky routing and no shared session store
are needed. Before the SDK sees a request, the credential (API key, access token, DPoP-bound
token) is checked as on every API route, the organization in the path must be the caller's
(another one answers 404, like an unknown toolset) and the toolset is resolved (cached for
``SPRINTCONNECT_GATEWAY_TOOLSET_CACHE_SECONDS``). Lists come from the catalog; every call
takes ``gateway.calls`` (policy per tool, class limits, audit, measurement) to the upstream.

A refusal of a call (policy, limits, bad arguments, upstream failure) is a tool result with
``isError`` whose text states the problem, the problem+json document under
``_meta["sprintconnect/problem"]``: clients show it, and models can read it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import mcp_types as types
import structlog
from mcp.server.lowlevel import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from sprintconnect import __version__
from sprintconnect.authz.service import request_for
from sprintconnect.db.session import bind_when_used
from sprintconnect.errors import InsufficientScope, PermissionDenied, SprintConnectError
from sprintconnect.gateway.calls import (
    ACTION,
    Gateway,
    Kind,
    Target,
    capability_resource,
    let_through,
    perform,
)
from sprintconnect.gateway.errors import ToolsetNotFound
from sprintconnect.gateway.exposure import Exposed
from sprintconnect.gateway.repository import ToolsetRepository
from sprintconnect.gateway.service import Resolved, ToolsetCache
from sprintconnect.handlers import problem_response
from sprintconnect.identity.auth import authenticate_request
from sprintconnect.identity.principal import Principal
from sprintconnect.identity.scopes import grants
from sprintconnect.models import Toolset
from sprintconnect.runtime import Runtime

log = structlog.get_logger(__name__)

_PATH = re.compile(r"^/mcp/([a-z0-9][a-z0-9-]{0,62})/([a-z0-9][a-z0-9-]{0,62})/?$")
PROBLEM_META = "sprintconnect/problem"


@dataclass(frozen=True)
class Caller:
    principal: Principal
    resolved: Resolved
    request_id: str | None


_caller: ContextVar[Caller | None] = ContextVar("sprintconnect_gateway_caller", default=None)


def _current() -> Caller:
    caller = _caller.get()
    if caller is None:  # the SDK ran a handler outside a request we admitted
        raise MCPError(types.INTERNAL_ERROR, "no caller")
    return caller


def _refusal(exc: SprintConnectError, caller: Caller) -> types.CallToolResult:
    problem = exc.to_problem(instance=None, request_id=caller.request_id)
    document = problem.model_dump(mode="json", exclude_none=True)
    text = f"{problem.title}: {problem.detail or problem.title}"
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)],
        is_error=True,
        _meta={PROBLEM_META: document},
    )


class GatewayEndpoint:
    """The ASGI app mounted at ``/mcp``."""

    def __init__(self, runtime: Runtime, gateway: Gateway, cache: ToolsetCache) -> None:
        self.runtime = runtime
        self.gateway = gateway
        self.cache = cache
        self.server: Server[Any] = Server(
            "sprintconnect-gateway",
            version=__version__,
            instructions="Tools approved by your organization, served by SprintConnect.",
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            on_list_prompts=self._list_prompts,
            on_get_prompt=self._get_prompt,
            on_list_resources=self._list_resources,
            on_list_resource_templates=self._list_templates,
            on_read_resource=self._read_resource,
        )
        self.manager = StreamableHTTPSessionManager(
            app=self.server,
            stateless=True,
            # Host checks guard local servers from browsers; this one authenticates every call.
            security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The SDK's session manager, run by a task of its own: its task group is entered and
        left in that one task, whichever tasks start and stop the app."""
        ready, stop = asyncio.Event(), asyncio.Event()

        async def hold() -> None:
            async with self.manager.run():
                ready.set()
                await stop.wait()

        task = asyncio.create_task(hold(), name="gateway-mcp")
        waiter = asyncio.create_task(ready.wait())
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            waiter.cancel()
            task.result()  # raises why it could not start
        try:
            yield
        finally:
            stop.set()
            await task

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        try:
            caller = await self._admit(request, scope)
        except SprintConnectError as exc:
            await problem_response(request, exc)(scope, receive, send)
            return
        token = _caller.set(caller)
        try:
            await self.manager.handle_request(scope, receive, send)
        finally:
            _caller.reset(token)

    async def _admit(self, request: Request, scope: Scope) -> Caller:
        match = _PATH.match(scope["path"])
        if match is None:
            raise ToolsetNotFound("MCP endpoints are /mcp/{organization slug}/{toolset name}.")
        slug, name = match.groups()
        async with self.runtime.db.sessionmaker() as session:
            principal = await authenticate_request(request, self.runtime, session)
            if principal.org_slug and principal.org_slug != slug:
                raise ToolsetNotFound(f"No toolset '{name}' in organization '{slug}'.")
            if not principal.org_slug:
                org_id = await ToolsetRepository(session).org_by_slug(slug)
                if org_id != principal.org_id:
                    raise ToolsetNotFound(f"No toolset '{name}' in organization '{slug}'.")
            if not grants(principal.scopes, ACTION):
                raise InsufficientScope(ACTION, list(principal.scopes))
            if ACTION not in principal.permissions:
                raise PermissionDenied(
                    f"Using a toolset requires the permission '{ACTION}', which your roles do "
                    "not grant."
                )
            bind_when_used(session, principal.org_id)
            resolved = await self.cache.resolve(session, principal.org_id, name)
            await session.commit()
        if resolved is None:
            raise ToolsetNotFound(f"No toolset '{name}' in organization '{slug}'.")
        state = scope.get("state") or {}
        return Caller(principal, resolved, state.get("request_id"))

    # Lists: what the toolset exposes, from the catalog (no upstream call).

    async def _visible(self, exposed: list[Exposed], kind: Kind) -> list[Exposed]:
        """What the caller may call, decided as each call would be: a listing shows no tool
        that a call would be refused by policy (rate limits aside)."""
        caller = _current()
        principal = caller.principal
        authorizer = self.gateway.authorizer
        if not principal.policy_version and authorizer.role_rules_suffice:
            # Role rules only (Cedar, no organization policies): the base rules, in code.
            may_production = "servers:production" in principal.permissions
            return [e for e in exposed if may_production or e.server.environment != "production"]
        async with self.runtime.db.sessionmaker() as session:
            bind_when_used(session, principal.org_id)
            text = await authorizer.policy_text(session, principal.org_id, principal.policy_version)
        requests = [
            request_for(
                principal,
                ACTION,
                capability_resource(
                    Target(
                        e.server,
                        kind,
                        e.item.name if kind != "resource" else e.name,
                        e.item,
                        "read",
                    )
                ),
            )
            for e in exposed
        ]
        decisions = await authorizer.decide_many(requests, text)
        return [e for e, d in zip(exposed, decisions, strict=True) if d.allowed]

    async def _list_tools(self, ctx: Any, params: Any) -> types.ListToolsResult:
        exposure = _current().resolved.exposure
        shown = await self._visible(list(exposure.tools.values()), "tool")
        return types.ListToolsResult(tools=[_tool(e) for e in shown])

    async def _list_prompts(self, ctx: Any, params: Any) -> types.ListPromptsResult:
        exposure = _current().resolved.exposure
        shown = await self._visible(list(exposure.prompts.values()), "prompt")
        return types.ListPromptsResult(
            prompts=[types.Prompt.model_validate({**_body(e), "name": e.name}) for e in shown]
        )

    async def _list_resources(self, ctx: Any, params: Any) -> types.ListResourcesResult:
        exposure = _current().resolved.exposure
        shown = await self._visible(list(exposure.resources.values()), "resource")
        return types.ListResourcesResult(
            resources=[types.Resource.model_validate(_body(e)) for e in shown]
        )

    async def _list_templates(self, ctx: Any, params: Any) -> types.ListResourceTemplatesResult:
        exposure = _current().resolved.exposure
        shown = await self._visible(list(exposure.templates), "resource")
        return types.ListResourceTemplatesResult(
            resource_templates=[types.ResourceTemplate.model_validate(_body(e)) for e in shown]
        )

    # Calls: through gateway.calls, on behalf of the admitted caller.

    async def _call(
        self, ctx: Any, exposed: Exposed, kind: Kind, name: str, arguments: dict[str, Any]
    ) -> dict[str, Any] | SprintConnectError:
        caller = _current()
        resolved = caller.resolved
        target = _target_of(exposed, kind, name, resolved.toolset)
        gw = self.gateway
        org = resolved.org

        async def forward(progress: float, total: float | None, message: str | None) -> None:
            with contextlib.suppress(Exception):  # a client that stopped listening is no failure
                await ctx.session.report_progress(progress, total, message)

        try:
            async with self.runtime.db.sessionmaker() as session:
                bind_when_used(session, org.id)
                ticket = await let_through(
                    gw,
                    session,
                    caller.principal,
                    target,
                    arguments=arguments,
                    source="gateway",
                    org_limits=org.gateway_limits,
                    sensitive_fields=list(org.audit_sensitive_fields),
                    policy=gw.policy(org),
                    deadline=gw.deadline(resolved.toolset.timeout_seconds),
                )
            outcome = await perform(gw, ticket, forward)
        except SprintConnectError as exc:
            return exc
        if outcome.redacted:
            outcome.result.setdefault("_meta", {})["sprintconnect/redacted"] = outcome.redacted
        return outcome.result

    async def _call_tool(
        self, ctx: Any, params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        caller = _current()
        exposed = caller.resolved.exposure.tools.get(params.name)
        if exposed is None:
            raise MCPError(types.INVALID_PARAMS, f"Unknown tool: {params.name[:128]}")
        answer = await self._call(ctx, exposed, "tool", exposed.item.name, params.arguments or {})
        if isinstance(answer, SprintConnectError):
            return _refusal(answer, caller)
        return types.CallToolResult.model_validate(answer)

    async def _get_prompt(
        self, ctx: Any, params: types.GetPromptRequestParams
    ) -> types.GetPromptResult:
        caller = _current()
        exposed = caller.resolved.exposure.prompts.get(params.name)
        if exposed is None:
            raise MCPError(types.INVALID_PARAMS, f"Unknown prompt: {params.name[:128]}")
        answer = await self._call(
            ctx, exposed, "prompt", exposed.item.name, dict(params.arguments or {})
        )
        if isinstance(answer, SprintConnectError):
            raise _as_mcp_error(answer, caller)
        return types.GetPromptResult.model_validate(answer)

    async def _read_resource(
        self, ctx: Any, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        caller = _current()
        uri = str(params.uri)
        exposed = caller.resolved.exposure.resource_for(uri)
        if exposed is None:
            raise MCPError(types.INVALID_PARAMS, f"Unknown resource: {uri[:256]}")
        answer = await self._call(ctx, exposed, "resource", uri, {})
        if isinstance(answer, SprintConnectError):
            raise _as_mcp_error(answer, caller)
        return types.ReadResourceResult.model_validate(answer)


def _target_of(
    exposed: Exposed, kind: Kind, name: str | None = None, toolset: Toolset | None = None
) -> Target:
    """What a call of ``exposed`` reaches: the upstream's own name (a resource: the URI asked
    for, by default the one listed), in ``toolset`` when the call comes through one."""
    if name is None:
        name = exposed.name if kind == "resource" else exposed.item.name
    return Target(
        exposed.server,
        kind,
        name,
        exposed.item,
        exposed.capability_class,
        toolset_id=toolset.id if toolset is not None else None,
        toolset_name=toolset.name if toolset is not None else None,
    )


def _as_mcp_error(exc: SprintConnectError, caller: Caller) -> MCPError:
    problem = exc.to_problem(instance=None, request_id=caller.request_id)
    code = types.INVALID_PARAMS if exc.status in (404, 422) else types.INTERNAL_ERROR
    return MCPError(
        code,
        f"{problem.title}: {problem.detail or problem.title}",
        {PROBLEM_META: problem.model_dump(mode="json", exclude_none=True)},
    )


def _body(exposed: Exposed) -> dict[str, Any]:
    body = dict(exposed.item.body)
    body.pop("_meta", None)
    return body


def _tool(exposed: Exposed) -> types.Tool:
    body = _body(exposed)
    body["name"] = exposed.name
    return types.Tool.model_validate(body)


async def mounted(scope: Scope, receive: Receive, send: Send) -> None:
    """What ``/mcp`` is mounted to: the endpoint the app's lifespan built."""
    endpoint: GatewayEndpoint = scope["app"].state.gateway_endpoint
    await endpoint(scope, receive, send)


class McpFastPath:
    """Middleware: ``/mcp/...`` goes straight to the endpoint, past the API's router and its
    idempotency layer (neither applies to MCP). It sits inside the request context, the body
    limit and the input checks, which MCP requests pass like any other."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/mcp/"):
            await mounted(scope, receive, send)
            return
        await self.app(scope, receive, send)
