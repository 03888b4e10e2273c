"""The FastAPI application: middleware, error handlers and routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import Depends, FastAPI

from sprintconnect import __version__
from sprintconnect.api_key.endpoints import router as api_key_router
from sprintconnect.audit.endpoints import platform_router as platform_audit_router
from sprintconnect.audit.endpoints import router as audit_router
from sprintconnect.audit.ledger.endpoints import keys_router as audit_keys_router
from sprintconnect.audit.ledger.endpoints import router as audit_ledger_router
from sprintconnect.authz import enforcement
from sprintconnect.authz.factory import build_authorizer
from sprintconnect.catalog.endpoints import router as catalog_router
from sprintconnect.config import Settings
from sprintconnect.console.serving import install_console
from sprintconnect.discovery.endpoints import router as discovery_router
from sprintconnect.gateway.endpoints import router as toolset_router
from sprintconnect.gateway.lifecycle import start_gateway, stop_gateway
from sprintconnect.gateway.mcp_endpoint import McpFastPath
from sprintconnect.gateway.mcp_endpoint import mounted as mounted_gateway
from sprintconnect.gateway.playground import router as playground_router
from sprintconnect.handlers import install_error_handlers
from sprintconnect.health.endpoints import router as health_router
from sprintconnect.idempotency import IdempotencyMiddleware
from sprintconnect.identity.auth_events import UnattributedAudit
from sprintconnect.identity.cache import PrincipalCache
from sprintconnect.identity.endpoints import router as identity_router
from sprintconnect.identity.ratelimit import AuthenticationThrottled, OrgRateLimited, RateLimiter
from sprintconnect.identity.session.configuration_endpoints import (
    config_router as identity_provider_router,
)
from sprintconnect.identity.session.endpoints import auth_router as sign_in_router
from sprintconnect.identity.session.lifecycle import close_sign_in
from sprintconnect.identity.tokens.endpoints import router as token_router
from sprintconnect.identity.tokens.state import build_token_state
from sprintconnect.jobs.context import TaskServices
from sprintconnect.jobs.endpoints import router as jobs_router
from sprintconnect.jobs.runner import JobRunner
from sprintconnect.kit.cache import build_cache
from sprintconnect.kit.outbound import build_outbound_limiter
from sprintconnect.kit.query import reject_unknown_query
from sprintconnect.mcp_server.connector import Network, TokenCache
from sprintconnect.mcp_server.endpoints import router as server_router
from sprintconnect.middleware import (
    BodyLimitMiddleware,
    InputHygieneMiddleware,
    RequestContextMiddleware,
)
from sprintconnect.notification.endpoints import router as notification_router
from sprintconnect.ops.docs import install_docs
from sprintconnect.ops.endpoints import router as ops_router
from sprintconnect.ops.ports import MetricsPortMiddleware
from sprintconnect.organization.endpoints import router as organization_router
from sprintconnect.policy.endpoints import router as policy_router
from sprintconnect.role.endpoints import router as role_router
from sprintconnect.runtime import Runtime, build_runtime
from sprintconnect.secret import build_secret_store
from sprintconnect.service_account.endpoints import router as service_account_router
from sprintconnect.user.endpoints import router as user_router
from sprintconnect.webhook.endpoints import router as webhook_router

log = structlog.get_logger(__name__)

FAILURE_AUDIT_LIMIT = "5/minute"

DESCRIPTION = """
SprintConnect registers MCP servers for organizations, discovers what they offer, and lets API
clients find them under policy.

**Authentication**, any one of:
- an API key: `Authorization: Bearer sc_<prefix>_<secret>`;
- an access token (a JWT) from the token service (`POST /oauth/token`, e.g. a service account's
  client credentials) or from the organization's identity provider: `Authorization: Bearer
  <token>`, or `Authorization: DPoP <token>` with a `DPoP` proof for a DPoP-bound token;
- a browser session from signing in (`GET /auth/login?org=<slug>`): its cookie, plus an
  `X-CSRF-Token` header on every request that changes something.

**Errors** are RFC 9457 `application/problem+json` documents with `type`, `title`, `status`,
`detail`, `instance` and `request_id`; validation errors list each field under `errors`.
Every answer carries an `X-Request-ID` header.
"""


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """Build the app. A given ``runtime`` is used as is and left open at shutdown."""
    settings = runtime.settings if runtime else (settings or Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = runtime is None
        rt = runtime or build_runtime(settings)
        app.state.runtime = rt
        redis_url = settings.redis_url.get_secret_value() if settings.redis_url else None
        app.state.rate_limiter = RateLimiter(settings.api_key_rate_limit, redis_url)
        app.state.org_rate_limiter = RateLimiter(
            settings.org_rate_limit, redis_url, namespace="org", error=OrgRateLimited
        )
        app.state.auth_failure_limiter = RateLimiter(
            settings.auth_failure_rate_limit,
            redis_url,
            namespace="auth-failures",
            error=AuthenticationThrottled,
        )
        app.state.failure_audit_limiter = RateLimiter(
            FAILURE_AUDIT_LIMIT, redis_url, namespace="auth-failure-audit"
        )
        app.state.unattributed_audit = UnattributedAudit(redis_url)
        app.state.principal_cache = PrincipalCache(settings.api_key_cache_seconds)
        app.state.authorizer = build_authorizer(settings)
        app.state.secret_store = build_secret_store(rt)
        app.state.token_cache = TokenCache()
        app.state.token_state = build_token_state(rt)
        app.state.search_cache = build_cache(redis_url, max_bytes=settings.search_cache_max_bytes)
        app.state.outbound_limiter = build_outbound_limiter(
            settings.outbound_concurrency_per_org, redis_url
        )
        gateway_parts = await start_gateway(app, rt, redis_url)
        runner = None
        if settings.inprocess_worker:
            runner = JobRunner(
                TaskServices(
                    runtime=rt,
                    secrets=app.state.secret_store,
                    network=getattr(app.state, "network", None) or Network(),
                    tokens=app.state.token_cache,
                )
            )
            await runner.start()
        log.info("app.started", database=rt.db.describe(), env=settings.env)
        try:
            yield
        finally:
            await app.state.principal_cache.settled()  # background key checks use the pool
            if runner is not None:
                await runner.stop()
            await stop_gateway(app, gateway_parts)
            await close_sign_in(app.state)
            await app.state.secret_store.close()
            await app.state.token_state.aclose()
            await app.state.search_cache.close()
            await app.state.outbound_limiter.close()
            if owned:
                await rt.db.dispose()

    app = FastAPI(
        title="SprintConnect",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # Before any route's own: unknown query parameters are refused (422), and each
        # request gathers its policy obligations afresh.
        dependencies=[Depends(reject_unknown_query), Depends(enforcement.begin)],
        # Served by install_docs from packaged assets instead of a CDN.
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    install_docs(app)
    install_console(app)
    app.include_router(ops_router)
    app.include_router(identity_router)
    app.include_router(sign_in_router)
    app.include_router(identity_provider_router)
    app.include_router(api_key_router)
    app.include_router(service_account_router)
    app.include_router(token_router)
    app.include_router(user_router)
    app.include_router(role_router)
    app.include_router(policy_router)
    app.include_router(server_router)
    app.include_router(discovery_router)
    app.include_router(health_router)
    app.include_router(catalog_router)
    app.include_router(organization_router)
    app.include_router(jobs_router)
    app.include_router(notification_router)
    app.include_router(webhook_router)
    app.include_router(audit_router)
    app.include_router(audit_ledger_router)
    app.include_router(audit_keys_router)
    app.include_router(platform_audit_router)
    app.include_router(toolset_router)
    app.include_router(playground_router)
    app.mount("/mcp", mounted_gateway)
    # Innermost of ours: it sees bodies after the size limit, inside the request context.
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(McpFastPath)
    # Refuses what no route may receive (NUL, deep JSON, huge headers) before anything parses it.
    app.add_middleware(InputHygieneMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.metrics_port is not None:
        # The metrics port answers nothing but /metrics (inside the request context: ids).
        app.add_middleware(MetricsPortMiddleware, port=settings.metrics_port)
    app.add_middleware(RequestContextMiddleware)
    return app
