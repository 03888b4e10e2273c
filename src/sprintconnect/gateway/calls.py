"""One call of a capability, whichever door it came through (playground or gateway).

In order: the arguments against the tool's input schema (422 before anything is sent), the
policy decision on the ``Capability`` (obligations carried out), the caller's limit for the
capability's class (429), an audit entry (committed before the server sees the call, so a
call is never made unrecorded), then the call on a shared upstream session through the egress
guard within the caller's deadline, with failures classified. Every attempt, let through or
not, becomes a measurement (``gateway.measure``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import jsonschema
import structlog
from jsonschema_specifications import REGISTRY as SPECIFICATIONS
from mcp.shared.dispatcher import ProgressFnT
from mcp.shared.exceptions import MCPError
from mcp_types import CONNECTION_CLOSED, INVALID_PARAMS, METHOD_NOT_FOUND
from prometheus_client import Counter, Histogram
from referencing.exceptions import Unresolvable
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sprintconnect import audit
from sprintconnect.authz.decision import Decision, PolicyDenied, Resource
from sprintconnect.authz.service import Authorizer, authorize
from sprintconnect.config import Settings
from sprintconnect.db.tenancy import bind_tenant
from sprintconnect.egress import EgressDenied, EgressPolicy, org_policy
from sprintconnect.errors import FieldError, InsufficientScope, RateLimited, SprintConnectError
from sprintconnect.gateway.errors import (
    CapabilityChanged,
    CapabilityNotFound,
    ToolArgumentsInvalid,
    UpstreamFailed,
    UpstreamTimeout,
)
from sprintconnect.gateway.limits import ClassLimiter
from sprintconnect.gateway.measure import Measurement, MeasurementWriter, estimate_tokens
from sprintconnect.gateway.redaction import redact_result
from sprintconnect.gateway.upstream import OpenFailed, UpstreamPool
from sprintconnect.identity.principal import Actor, Principal
from sprintconnect.identity.scopes import grants
from sprintconnect.mcp_server import credentials
from sprintconnect.mcp_server.failures import GUIDANCE, classify
from sprintconnect.models import CapabilityItem, McpServer, Organization
from sprintconnect.secret import SecretNotFound, SecretStore

log = structlog.get_logger(__name__)

CALLS = Counter(
    "sprintconnect_gateway_calls_total",
    "Calls of tools, resources and prompts through the gateway or the playground",
    ["source", "status"],
)
CALL_SECONDS = Histogram(
    "sprintconnect_gateway_call_seconds",
    "Time from receiving a call to answering it, upstream included",
    ["source"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)

Kind = Literal["tool", "resource", "prompt"]
Source = Literal["gateway", "playground"]
Progress = ProgressFnT
ACTION = "tools:invoke"
_MISSING = re.compile(r"unknown (tool|prompt|resource)|not found|no such", re.IGNORECASE)


@dataclass(frozen=True)
class Target:
    """What is called: ``name`` is the upstream tool's or prompt's name, or a resource URI."""

    server: McpServer
    kind: Kind
    name: str
    item: CapabilityItem | None
    capability_class: str
    toolset_id: UUID | None = None
    toolset_name: str | None = None


@dataclass
class Gateway:
    """The process-wide parts every call uses (``app.state.gateway``)."""

    settings: Settings
    authorizer: Authorizer
    limiter: ClassLimiter
    pool: UpstreamPool
    writer: MeasurementWriter
    secrets: SecretStore
    sessionmaker: async_sessionmaker[AsyncSession]
    now: Callable[[], datetime]

    def deadline(self, *wanted: float | None) -> float:
        """The smallest deadline asked for (a request's, a toolset's), else the platform's
        default; never above the platform's maximum."""
        chosen = [w for w in wanted if w is not None and w > 0]
        ceiling = self.settings.gateway_max_call_timeout_seconds
        return min(min(chosen) if chosen else self.settings.gateway_call_timeout_seconds, ceiling)

    def policy(self, org: Organization) -> EgressPolicy:
        """The egress policy of an organization's calls: every address check applies, but not
        the outbound request budget (``SPRINTCONNECT_EGRESS_RATE_LIMIT``): calls are counted by
        their class limits instead, per caller, so one busy agent cannot starve discovery and
        health checks of the budget, nor be refused by it with a misleading reason."""
        return dataclasses.replace(
            org_policy(self.settings, org.egress_allowlist, org_id=org.id), rate_limit=None
        )


@dataclass
class Outcome:
    result: dict[str, Any]
    duration_ms: float
    request_bytes: int
    response_bytes: int
    decision_id: str | None
    redacted: list[str] = field(default_factory=list)


def capability_class(item: CapabilityItem | None, kind: Kind, override: str | None = None) -> str:
    """``expensive`` only when a toolset says so; a tool is ``read`` when its annotations say
    it changes nothing (``readOnlyHint``), else ``write``; resources and prompts are reads."""
    if override:
        return override
    if kind != "tool":
        return "read"
    annotations = (item.body.get("annotations") if item is not None else None) or {}
    return "read" if annotations.get("readOnlyHint") is True else "write"


def capability_resource(target: Target) -> Resource:
    server = target.server
    return Resource(
        "Capability",
        str(target.item.id)
        if target.item is not None
        else f"{server.id}:{target.kind}:{target.name}",
        {
            "name": target.name,
            "kind": target.kind,
            "server": server.name,
            "environment": server.environment,
        },
    )


_VALIDATORS: OrderedDict[UUID, Any] = OrderedDict()
_VALIDATORS_MAX = 2048


def _validator(item: CapabilityItem, schema: dict[str, Any]) -> Any:
    """A compiled validator per snapshot item (items never change, so each is built once)."""
    found = _VALIDATORS.get(item.id)
    if found is None:
        validator_class = jsonschema.validators.validator_for(
            schema, default=jsonschema.validators.Draft202012Validator
        )
        # The specifications' own registry: a ``$ref`` to anywhere else is unresolvable (the
        # default registry would fetch it from the network, from this server).
        found = _VALIDATORS[item.id] = validator_class(schema, registry=SPECIFICATIONS)
        if len(_VALIDATORS) > _VALIDATORS_MAX:
            _VALIDATORS.popitem(last=False)
    return found


def validate_arguments(item: CapabilityItem | None, arguments: Mapping[str, Any]) -> None:
    """422 naming each bad field, from the input schema of the latest snapshot."""
    if item is None:
        return
    schema = item.body.get("inputSchema")
    if not isinstance(schema, dict):
        return
    try:
        errors = sorted(
            _validator(item, schema).iter_errors(dict(arguments)), key=lambda e: list(e.path)
        )
    except (jsonschema.exceptions.SchemaError, TypeError, ValueError, RecursionError):
        return  # a schema we cannot use is the server's to judge (discovery flags it)
    except Unresolvable:  # a $ref that is not inside the schema: never fetched
        return
    if errors:
        raise ToolArgumentsInvalid(
            item.name,
            [
                FieldError(
                    loc=[
                        "body",
                        "arguments",
                        *[str(p) if isinstance(p, str) else p for p in e.path],
                    ],
                    msg=e.message[:300],
                    type=f"schema.{e.validator}",
                )
                for e in errors[:20]
            ],
        )


def _size(value: Any) -> int:
    return len(json.dumps(value, default=str, separators=(",", ":")))


async def admit(
    gw: Gateway,
    session: AsyncSession,
    principal: Principal,
    target: Target,
    *,
    org_limits: Mapping[str, str],
    source: Source,
    arguments: Mapping[str, Any],
    sensitive_fields: list[str] | None = None,
) -> Decision:
    """Scope, policy, class limit and audit; raises the problem that stops the call."""
    if not grants(principal.scopes, ACTION):
        raise InsufficientScope(ACTION, list(principal.scopes))
    decision = await authorize(
        gw.authorizer,
        session,
        principal,
        ACTION,
        capability_resource(target),
        hidden=CapabilityNotFound(
            f"No {target.kind} '{target.name}' is visible to you on this server."
        ),
        read_action="capabilities:read",
    )
    caller = str(principal.api_key_id or principal.service_account_id or principal.user_id)
    await gw.limiter.hit(org_limits, target.capability_class, str(principal.org_id), caller)
    await audit.record(
        session,
        audit.AuditTag.CAPABILITY_INVOKED,
        org_id=principal.org_id,
        actor=principal.actor,
        target=audit.Target("mcp_server", target.server.id),
        details={
            "source": source,
            "kind": target.kind,
            "name": target.name[:500],
            "toolset": target.toolset_name,
            "capability_class": target.capability_class,
            "decision_id": decision.decision_id,
            "argument_names": sorted(str(k)[:100] for k in arguments)[:50],
        },
        sensitive_fields=sensitive_fields,
    )
    return decision


async def load_secret(gw: Gateway, server: McpServer) -> dict[str, str] | None:
    if server.auth_type == "none":
        return None
    try:
        value = await gw.secrets.get(server.org_id, credentials.secret_path(server.id))
    except SecretNotFound as exc:
        raise UpstreamFailed(
            "auth_rejected", "The server's stored credentials are missing; set them again."
        ) from exc
    revealed: dict[str, str] = value.reveal()
    return revealed


async def call_upstream(
    gw: Gateway,
    target: Target,
    *,
    secret: Mapping[str, str] | None,
    policy: EgressPolicy,
    arguments: Mapping[str, Any],
    deadline: float,
    progress: Progress | None,
) -> dict[str, Any]:
    """The call itself on a shared session; the answer as MCP JSON, or a classified problem.

    At the deadline the call is abandoned: the SDK tells the server (``notifications/cancelled``)
    so that it can stop working on it.
    """
    server = target.server
    try:
        async with asyncio.timeout(deadline), gw.pool.session(server, secret, policy) as upstream:
            if target.kind == "tool":
                result: Any = await upstream.call_tool(
                    target.name,
                    dict(arguments),
                    read_timeout_seconds=deadline,
                    progress_callback=progress,
                )
            elif target.kind == "resource":
                result = await upstream.read_resource(target.name)
            else:
                result = await upstream.get_prompt(
                    target.name, {str(k): str(v) for k, v in arguments.items()}
                )
    except TimeoutError as exc:
        raise UpstreamTimeout(
            "timeout",
            f"The server did not answer within {deadline:g}s; the call was abandoned and the "
            "server told to cancel it.",
        ) from exc
    except MCPError as exc:
        raise _protocol_problem(target, exc) from exc
    except OpenFailed as exc:
        raise _open_problem(gw, server, exc) from exc
    dumped: dict[str, Any] = result.model_dump(by_alias=True, exclude_none=True, mode="json")
    dumped.pop("resultType", None)
    if target.kind == "tool" and dumped.get("isError") and _looks_missing(dumped):
        raise CapabilityChanged(
            "capability_missing",
            f"The server no longer has the tool '{target.name}'.",
        )
    return dumped


def _looks_missing(result: Mapping[str, Any]) -> bool:
    for block in result.get("content") or []:
        text = block.get("text") if isinstance(block, dict) else None
        if isinstance(text, str) and text.lower().startswith("unknown tool"):
            return True
    return False


def _protocol_problem(target: Target, exc: MCPError) -> UpstreamFailed:
    message = exc.message[:300]
    if exc.code == CONNECTION_CLOSED:
        return UpstreamFailed(
            "connection_lost",
            f"The connection to the server was lost during the call ({message}); whether the "
            "call took effect there is unknown. Check the server's health before retrying a "
            "call that changes something.",
        )
    if exc.code == METHOD_NOT_FOUND or (exc.code == INVALID_PARAMS and _MISSING.search(message)):
        return CapabilityChanged(
            "capability_missing",
            f"The server no longer has the {target.kind} '{target.name}' ({message}).",
        )
    if exc.code == INVALID_PARAMS:
        return CapabilityChanged(
            "schema_mismatch",
            f"The server refused arguments that the snapshot's schema allows ({message}): its "
            "schema changed.",
        )
    return UpstreamFailed("tool_error", f"The server answered with an error: {message}")


def _open_problem(gw: Gateway, server: McpServer, exc: OpenFailed) -> UpstreamFailed:
    cause = exc.cause
    if isinstance(cause, TimeoutError):
        return UpstreamTimeout("timeout", "The server did not accept a session in time.")
    if isinstance(cause, EgressDenied):
        return UpstreamFailed("egress_denied", f"{cause.detail} {GUIDANCE['egress_denied']}")
    failure = classify(cause, statuses=exc.statuses, client_certificate=server.auth_type == "mtls")
    if failure.reason in ("auth_rejected", "egress_denied"):
        gw.pool.tokens.forget_server(server.id)
    guidance = GUIDANCE[failure.reason].replace("{id}", str(server.id))
    return UpstreamFailed(failure.reason, f"{failure.message}. {guidance}")


def status_of(exc: BaseException) -> tuple[str, str]:
    """A failure as a measurement's (status, error class)."""
    if isinstance(exc, ToolArgumentsInvalid):
        return "invalid", "invalid_arguments"
    if isinstance(exc, PolicyDenied | InsufficientScope | CapabilityNotFound):
        return "denied", "policy_denied"
    if isinstance(exc, RateLimited):
        return "throttled", "rate_limited"
    if isinstance(exc, UpstreamTimeout):
        return "timeout", "timeout"
    if isinstance(exc, UpstreamFailed):
        return "failed", exc.reason
    if isinstance(exc, SprintConnectError):
        return "failed", exc.slug[:32]
    if isinstance(exc, asyncio.CancelledError):
        return "cancelled", "cancelled"
    return "failed", "internal"


def _decision_of(exc: BaseException) -> str | None:
    extra = exc.extra if isinstance(exc, SprintConnectError) else {}
    decision_id = extra.get("decision_id")
    return str(decision_id)[:64] if decision_id else None


def measure(
    gw: Gateway,
    principal: Principal,
    target: Target,
    *,
    source: Source,
    status: str,
    error_class: str | None,
    started: float,
    request_bytes: int,
    response_bytes: int,
    decision_id: str | None,
) -> float:
    seconds = time.perf_counter() - started
    latency_ms = round(seconds * 1000, 3)
    CALLS.labels(source=source, status=status).inc()
    CALL_SECONDS.labels(source=source).observe(seconds)
    actor: Actor = principal.actor
    gw.writer.add(
        Measurement(
            org_id=principal.org_id,
            at=gw.now(),
            source=source,
            toolset_id=target.toolset_id,
            server_id=target.server.id,
            kind=target.kind,
            name=target.name[:500],
            capability_class=target.capability_class,
            caller_type=actor.type,
            caller_id=str(actor.id or principal.user_id or "")[:64],
            caller_user_id=principal.user_id,
            status=status,
            error_class=error_class,
            latency_ms=latency_ms,
            request_bytes=request_bytes,
            response_bytes=response_bytes,
            est_tokens=estimate_tokens(request_bytes, response_bytes),
            decision_id=decision_id,
        )
    )
    return latency_ms


@dataclass
class Ticket:
    """A call let through (validated, decided, counted, audited), ready to be made."""

    principal: Principal
    target: Target
    arguments: Mapping[str, Any]
    source: Source
    policy: EgressPolicy
    timeout: float
    secret: dict[str, str] | None
    decision: Decision
    started: float
    request_bytes: int


async def let_through(
    gw: Gateway,
    session: AsyncSession,
    principal: Principal,
    target: Target,
    *,
    arguments: Mapping[str, Any],
    source: Source,
    org_limits: Mapping[str, str],
    policy: EgressPolicy,
    deadline: float,
    sensitive_fields: list[str] | None = None,
) -> Ticket:
    """Everything before the upstream call; commits ``session`` (its connection goes back to
    the pool, and the audit entry is kept whatever happens next). A refusal is measured."""
    started = time.perf_counter()
    request_bytes = _size(arguments) if target.kind != "resource" else len(target.name)
    try:
        if target.kind == "tool":
            validate_arguments(target.item, arguments)
        decision = await admit(
            gw,
            session,
            principal,
            target,
            org_limits=org_limits,
            source=source,
            arguments=arguments,
            sensitive_fields=sensitive_fields,
        )
        secret = (
            None if gw.pool.has(target.server, policy) else await load_secret(gw, target.server)
        )
        await session.commit()
    except BaseException as exc:
        status, error_class = status_of(exc)
        measure(
            gw,
            principal,
            target,
            source=source,
            status=status,
            error_class=error_class,
            started=started,
            request_bytes=request_bytes,
            response_bytes=0,
            # A refusal by policy names its decision, so the row leads to the decision log.
            decision_id=_decision_of(exc),
        )
        raise
    return Ticket(
        principal,
        target,
        arguments,
        source,
        policy,
        deadline,
        secret,
        decision,
        started,
        request_bytes,
    )


async def perform(gw: Gateway, ticket: Ticket, progress: Progress | None = None) -> Outcome:
    """The upstream call of a ticket, measured, with the policy's redactions applied."""
    target = ticket.target
    decision_id = ticket.decision.decision_id
    try:
        result = await call_upstream(
            gw,
            target,
            secret=ticket.secret,
            policy=ticket.policy,
            arguments=ticket.arguments,
            deadline=ticket.timeout,
            progress=progress,
        )
    except BaseException as exc:
        status, error_class = status_of(exc)
        measure(
            gw,
            ticket.principal,
            target,
            source=ticket.source,
            status=status,
            error_class=error_class,
            started=ticket.started,
            request_bytes=ticket.request_bytes,
            response_bytes=0,
            decision_id=decision_id,
        )
        if isinstance(exc, CapabilityChanged):
            exc.extra["discovery_queued"] = await requeue_discovery(gw, target.server)
        raise
    result, redacted = redact_result(result, ticket.decision.duties.redact)
    response_bytes = _size(result)
    tool_failed = target.kind == "tool" and result.get("isError") is True
    latency_ms = measure(
        gw,
        ticket.principal,
        target,
        source=ticket.source,
        status="tool_error" if tool_failed else "ok",
        error_class="tool_error" if tool_failed else None,
        started=ticket.started,
        request_bytes=ticket.request_bytes,
        response_bytes=response_bytes,
        decision_id=decision_id,
    )
    return Outcome(result, latency_ms, ticket.request_bytes, response_bytes, decision_id, redacted)


async def requeue_discovery(gw: Gateway, server: McpServer) -> bool:
    """A capability changed on the server: queue a discovery so the catalog catches up;
    whether one is queued (or was already)."""
    from sprintconnect.discovery.service import queue_discovery

    try:
        async with gw.sessionmaker() as session, session.begin():
            await bind_tenant(session, server.org_id)
            await queue_discovery(
                session, server, force_refresh=True, requested_by=None, actor=Actor("system")
            )
    except Exception as exc:  # the caller's answer matters more; the next change retries
        log.warning("gateway.discovery_not_queued", server_id=str(server.id), error=repr(exc)[:200])
        return False
    return True
