"""HTTP clients whose every request, redirect hop and connection passes the egress guard.

Two layers: the transport checks each request's URL (and spends the rate limit) before it is
sent, which covers redirect hops whether ``httpx`` or the MCP SDK follows them; the pool's
network backend resolves, checks and pins each new connection (see ``_backend``).
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable, Mapping

import httpcore
import httpcore2
import httpx
import httpx2

from sprintconnect.egress._backend import (
    ConnectGuard,
    GuardedBackend,
    HttpcoreGuardedBackend,
)
from sprintconnect.egress._policy import DEFAULT_PORTS, EgressPolicy
from sprintconnect.egress._ratelimit import spend
from sprintconnect.egress._resolver import Resolver
from sprintconnect.egress._telemetry import decision
from sprintconnect.egress._url import check_request_target

# The MCP SDK's defaults: servers may hold an event stream open for minutes.
MCP_TIMEOUT = httpx2.Timeout(30.0, read=300.0)
WEBHOOK_TIMEOUT = httpx.Timeout(10.0)
MAX_REDIRECTS = 5

McpClientFactory = Callable[..., httpx2.AsyncClient]


async def admit(
    policy: EgressPolicy, scheme: str, raw_host: bytes, port: int | None, userinfo: bytes
) -> None:
    """The per-request decision: the URL check, then one unit of the org's rate limit."""
    host = raw_host.decode("ascii", "replace")
    with decision("request", scheme=scheme, host=host, port=port or DEFAULT_PORTS.get(scheme, 0)):
        check_request_target(scheme, host, port, bool(userinfo), policy)
        await spend(policy)


@functools.cache
def _default_context(library: str) -> ssl.SSLContext:
    """One verifying context per library per process: loading the CA bundle costs ~20 ms,
    and a context may be shared by every client that does not bring its own."""
    make = httpx2.create_ssl_context if library == "httpx2" else httpx.create_ssl_context
    return make(trust_env=False)


def _verified(verify: ssl.SSLContext | None, library: str) -> ssl.SSLContext:
    context = _default_context(library) if verify is None else verify
    # Pinning connects to an address; only hostname verification ties it back to the URL.
    if not context.check_hostname or context.verify_mode != ssl.CERT_REQUIRED:
        raise ValueError("the egress guard needs certificate and host name verification")
    return context


class GuardedTransport(httpx2.AsyncHTTPTransport):
    """An ``httpx2`` transport whose pool connects only through the guard."""

    def __init__(
        self,
        policy: EgressPolicy,
        *,
        resolver: Resolver | None = None,
        network_backend: httpcore2.AsyncNetworkBackend | None = None,
        verify: ssl.SSLContext | None = None,
        limits: httpx2.Limits | None = None,
    ) -> None:
        context = _verified(verify, "httpx2")
        limits = limits or httpx2.Limits(max_connections=100, max_keepalive_connections=20)
        super().__init__(verify=context, trust_env=False, limits=limits)
        self.policy = policy
        # httpx2 does not pass a network backend through to its pool, so replace the pool it
        # built with the same one plus ours. No proxy: a proxy would hide the real destination.
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(ConnectGuard(policy, resolver), network_backend),
        )

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        url = request.url
        await admit(self.policy, url.scheme, url.raw_host, url.port, url.userinfo)
        return await super().handle_async_request(request)


class HttpxGuardedTransport(httpx.AsyncHTTPTransport):
    """The same transport for plain ``httpx`` (webhooks, OIDC discovery, chat integrations)."""

    def __init__(
        self,
        policy: EgressPolicy,
        *,
        resolver: Resolver | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
        verify: ssl.SSLContext | None = None,
        limits: httpx.Limits | None = None,
    ) -> None:
        context = _verified(verify, "httpx")
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        super().__init__(verify=context, trust_env=False, limits=limits)
        self.policy = policy
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=HttpcoreGuardedBackend(ConnectGuard(policy, resolver), network_backend),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        await admit(self.policy, url.scheme, url.raw_host, url.port, url.userinfo)
        return await super().handle_async_request(request)


def build_async_client(
    policy: EgressPolicy,
    *,
    resolver: Resolver | None = None,
    network_backend: httpcore2.AsyncNetworkBackend | None = None,
    verify: ssl.SSLContext | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: httpx2.Timeout | float | None = None,
    auth: httpx2.Auth | None = None,
    follow_redirects: bool = False,
    max_redirects: int = MAX_REDIRECTS,
    limits: httpx2.Limits | None = None,
) -> httpx2.AsyncClient:
    """An ``httpx2.AsyncClient`` for the MCP SDK that reaches only what ``policy`` allows."""
    transport = GuardedTransport(
        policy, resolver=resolver, network_backend=network_backend, verify=verify, limits=limits
    )
    return httpx2.AsyncClient(
        transport=transport,
        headers=headers,
        timeout=MCP_TIMEOUT if timeout is None else timeout,
        auth=auth,
        follow_redirects=follow_redirects,
        max_redirects=max_redirects,
        trust_env=False,  # no proxies or .netrc credentials from the environment
    )


def build_httpx_client(
    policy: EgressPolicy,
    *,
    resolver: Resolver | None = None,
    network_backend: httpcore.AsyncNetworkBackend | None = None,
    verify: ssl.SSLContext | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: httpx.Timeout | float | None = None,
    auth: httpx.Auth | None = None,
    follow_redirects: bool = False,
    max_redirects: int = MAX_REDIRECTS,
    limits: httpx.Limits | None = None,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` (webhooks and the like) that reaches only what ``policy`` allows."""
    transport = HttpxGuardedTransport(
        policy, resolver=resolver, network_backend=network_backend, verify=verify, limits=limits
    )
    return httpx.AsyncClient(
        transport=transport,
        headers=headers,
        timeout=WEBHOOK_TIMEOUT if timeout is None else timeout,
        auth=auth,
        follow_redirects=follow_redirects,
        max_redirects=max_redirects,
        trust_env=False,
    )


def mcp_client_factory(
    policy: EgressPolicy,
    *,
    resolver: Resolver | None = None,
    network_backend: httpcore2.AsyncNetworkBackend | None = None,
    verify: ssl.SSLContext | None = None,
) -> McpClientFactory:
    """A drop-in for the MCP SDK's ``httpx_client_factory`` (headers, timeout, auth)."""

    def factory(
        headers: dict[str, str] | None = None,
        timeout: httpx2.Timeout | None = None,
        auth: httpx2.Auth | None = None,
    ) -> httpx2.AsyncClient:
        return build_async_client(
            policy,
            resolver=resolver,
            network_backend=network_backend,
            verify=verify,
            headers=headers,
            timeout=timeout,
            auth=auth,
        )

    return factory
