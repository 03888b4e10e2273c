"""Starting and stopping the gateway's process-wide parts with the app."""

from __future__ import annotations

import contextlib

from fastapi import FastAPI

from sprintconnect.gateway.calls import Gateway
from sprintconnect.gateway.limits import ClassLimiter
from sprintconnect.gateway.mcp_endpoint import GatewayEndpoint
from sprintconnect.gateway.measure import MeasurementWriter
from sprintconnect.gateway.service import ToolsetCache
from sprintconnect.gateway.upstream import UpstreamPool
from sprintconnect.mcp_server.connector import Network
from sprintconnect.runtime import Runtime


async def start_gateway(
    app: FastAPI, runtime: Runtime, redis_url: str | None
) -> contextlib.AsyncExitStack:
    """Build the gateway on ``app.state`` (``gateway``, ``toolset_cache``,
    ``gateway_endpoint``); what the returned stack closes stops it."""
    settings = runtime.settings
    network: Network = getattr(app.state, "network", None) or Network()
    pool = UpstreamPool(
        network=network,
        tokens=app.state.token_cache,
        idle_seconds=settings.gateway_upstream_idle_seconds,
        connect_timeout_seconds=settings.mcp_connect_timeout_seconds,
        call_timeout_seconds=settings.gateway_max_call_timeout_seconds,
    )
    writer = MeasurementWriter(
        runtime.db.sessionmaker,
        flush_seconds=settings.measurement_flush_seconds,
        max_rows=settings.measurement_buffer_max,
    )
    gateway = Gateway(
        settings=settings,
        authorizer=app.state.authorizer,
        limiter=ClassLimiter(settings, redis_url),
        pool=pool,
        writer=writer,
        secrets=app.state.secret_store,
        sessionmaker=runtime.db.sessionmaker,
        now=runtime.clock.now,
    )
    cache = ToolsetCache(settings.gateway_toolset_cache_seconds)
    endpoint = GatewayEndpoint(runtime, gateway, cache)
    app.state.gateway = gateway
    app.state.toolset_cache = cache
    app.state.gateway_endpoint = endpoint
    stack = contextlib.AsyncExitStack()
    await writer.start()
    pool.start()
    stack.push_async_callback(writer.stop)
    stack.push_async_callback(pool.close)
    await stack.enter_async_context(endpoint.running())
    return stack


async def stop_gateway(app: FastAPI, stack: contextlib.AsyncExitStack) -> None:
    await stack.aclose()
