"""Opening an MCP session to a registered server: through the egress guard, with its credentials.

Failures are classified (DNS, refused, TLS, auth rejected, protocol, timeout, egress denied) so
that callers can say what to do about them.

Every operation here has an overall deadline (``asyncio.timeout``) besides the per-socket
timeouts: a remote party can keep each socket busy, or the SDK can wait on its own streams
where no socket timeout applies (an SSE ``endpoint`` event naming another origin). Callers
must not hold a database connection while they await these (see ``db.session.release_connection``).
"""

from __future__ import annotations

import asyncio
import os
import ssl
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpcore2
import httpx2
from authlib.integrations.httpx_client import AsyncOAuth2Client
from mcp.client.session import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from sprintconnect.egress import (
    EgressPolicy,
    Resolver,
    build_async_client,
    mcp_client_factory,
)
from sprintconnect.egress._client import GuardedTransport
from sprintconnect.mcp_server.failures import classify
from sprintconnect.models import McpServer

# Sees a transport's (read, write) streams and returns what the client session should use.
StreamWrapper = Callable[[Any, Any], tuple[Any, Any]]


@dataclass(frozen=True)
class Network:
    """How to reach the network; tests put a loopback-only backend and a fake resolver here."""

    resolver: Resolver | None = None
    backend: httpcore2.AsyncNetworkBackend | None = None
    httpx_backend: Any = None


class TokenCache:
    """OAuth 2 access tokens per server, reused until shortly before they expire."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}

    def get(self, key: str) -> str | None:
        hit = self._tokens.get(key)
        if hit and hit[1] > time.monotonic():
            return hit[0]
        self._tokens.pop(key, None)
        return None

    def put(self, key: str, token: str, expires_in: float) -> None:
        self._tokens[key] = (token, time.monotonic() + max(0.0, expires_in - 30))

    def forget(self, key: str) -> None:
        self._tokens.pop(key, None)

    def forget_server(self, server_id: object) -> None:
        """Drop every token held for one server (keys start with its id)."""
        prefix = f"{server_id}:"
        for key in [k for k in self._tokens if k.startswith(prefix)]:
            del self._tokens[key]


async def _client_credentials_token(
    server: McpServer,
    secret: Mapping[str, str],
    policy: EgressPolicy,
    network: Network,
    cache: TokenCache,
    timeout_seconds: float,
) -> str:
    config = server.auth_config
    key = f"{server.id}:{config['client_id']}:{server.credentials_updated_at}"
    cached = cache.get(key)
    if cached:
        return cached
    # Authlib's AsyncOAuth2Client is an httpx2 client: it needs the httpx2 transport.
    transport = GuardedTransport(policy, resolver=network.resolver, network_backend=network.backend)
    async with AsyncOAuth2Client(
        client_id=config["client_id"],
        client_secret=secret["client_secret"],
        scope=" ".join(config.get("scopes") or []) or None,
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method name
        transport=transport,
        timeout=httpx2.Timeout(min(10.0, timeout_seconds)),
        trust_env=False,
    ) as oauth:
        extra = {"audience": config["audience"]} if config.get("audience") else {}
        # A token endpoint that trickles bytes never trips a per-socket timeout.
        async with asyncio.timeout(timeout_seconds):
            token = await oauth.fetch_token(
                config["token_url"], grant_type="client_credentials", **extra
            )
    access = str(token["access_token"])
    cache.put(key, access, float(token.get("expires_in") or 300))
    return access


def _mtls_context(secret: Mapping[str, str]) -> ssl.SSLContext:
    """A verifying TLS context that presents the client certificate (and trusts a given CA)."""
    context = ssl.create_default_context(cadata=secret.get("ca_bundle_pem") or None)
    if not secret.get("ca_bundle_pem"):
        context.load_default_certs()
    # load_cert_chain reads files only: write them private, load, and remove at once.
    with tempfile.TemporaryDirectory() as folder:
        cert_path, key_path = os.path.join(folder, "c.pem"), os.path.join(folder, "k.pem")
        for path, text in (
            (cert_path, secret["client_cert_pem"]),
            (key_path, secret["client_key_pem"]),
        ):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
        context.load_cert_chain(cert_path, key_path)
    return context


async def request_options(
    server: McpServer,
    secret: Mapping[str, str] | None,
    policy: EgressPolicy,
    network: Network,
    cache: TokenCache,
    *,
    timeout_seconds: float,
) -> tuple[dict[str, str], ssl.SSLContext | None]:
    """Headers and TLS context that carry the server's credentials (a token fetch, if any,
    within ``timeout_seconds``)."""
    secret = secret or {}
    if server.auth_type == "bearer":
        return {"Authorization": f"Bearer {secret['token']}"}, None
    if server.auth_type == "header":
        return {server.auth_config["header_name"]: secret["value"]}, None
    if server.auth_type == "oauth2_client_credentials":
        token = await _client_credentials_token(
            server, secret, policy, network, cache, timeout_seconds
        )
        return {"Authorization": f"Bearer {token}"}, None
    if server.auth_type == "mtls":
        return {}, _mtls_context(secret)
    return {}, None


@asynccontextmanager
async def open_session(
    server: McpServer,
    secret: Mapping[str, str] | None,
    policy: EgressPolicy,
    *,
    network: Network,
    cache: TokenCache,
    timeout_seconds: float,
    statuses: list[int] | None = None,
    wrap_streams: StreamWrapper | None = None,
) -> AsyncIterator[ClientSession]:
    """An initialized MCP client session; every byte goes through the egress guard.

    ``statuses`` collects the HTTP status of every response: the SDK turns a 401 into a
    generic JSON-RPC error, so this is how a caller can still tell credentials were refused.
    ``wrap_streams`` sees the transport's (read, write) streams before the session does
    (discovery screens listing answers there, ``discovery.listing``).
    """
    wrap: StreamWrapper = wrap_streams or (lambda read, write: (read, write))
    headers, verify = await request_options(
        server, secret, policy, network, cache, timeout_seconds=timeout_seconds
    )

    def watched(client: httpx2.AsyncClient) -> httpx2.AsyncClient:
        if statuses is not None:

            async def record(response: httpx2.Response) -> None:
                statuses.append(response.status_code)

            client.event_hooks["response"].append(record)
        return client

    if server.transport == "sse":
        build = mcp_client_factory(
            policy, resolver=network.resolver, network_backend=network.backend, verify=verify
        )

        def factory(
            headers: dict[str, str] | None = None,
            timeout: httpx2.Timeout | None = None,
            auth: httpx2.Auth | None = None,
        ) -> httpx2.AsyncClient:
            return watched(build(headers=headers, timeout=timeout, auth=auth))

        transport = sse_client(
            server.url,
            headers=headers,
            timeout=timeout_seconds,
            sse_read_timeout=timeout_seconds,
            httpx_client_factory=factory,
        )
        async with transport as streams:
            read, write = wrap(*streams)
            async with ClientSession(read, write, read_timeout_seconds=timeout_seconds) as session:
                await session.initialize()
                yield session
        return
    client = watched(
        build_async_client(
            policy,
            resolver=network.resolver,
            network_backend=network.backend,
            verify=verify,
            headers=headers,
            timeout=httpx2.Timeout(timeout_seconds),
        )
    )
    async with client, streamable_http_client(server.url, http_client=client) as streams:
        read, write = wrap(*streams)
        async with ClientSession(read, write, read_timeout_seconds=timeout_seconds) as session:
            await session.initialize()
            yield session


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    latency_ms: float
    protocol_version: str | None = None
    server_name: str | None = None
    server_version: str | None = None
    reason: str | None = None
    error: str | None = None


async def check_connection(
    server: McpServer,
    secret: Mapping[str, str] | None,
    policy: EgressPolicy,
    *,
    network: Network,
    cache: TokenCache,
    timeout_seconds: float,
) -> CheckResult:
    """Connect and run ``initialize`` within ``timeout_seconds`` overall; report what happened
    rather than raise. Cancellation is not a failure to report: it propagates."""
    started = time.perf_counter()
    statuses: list[int] = []
    try:
        async with (
            asyncio.timeout(timeout_seconds),
            open_session(
                server,
                secret,
                policy,
                network=network,
                cache=cache,
                timeout_seconds=timeout_seconds,
                statuses=statuses,
            ) as session,
        ):
            info = session.server_info
            return CheckResult(
                ok=True,
                latency_ms=round((time.perf_counter() - started) * 1000, 1),
                protocol_version=session.protocol_version,
                server_name=info.name if info else None,
                server_version=info.version if info else None,
            )
    except Exception as exc:  # every failure becomes a classified answer
        # Exception, not BaseException: CancelledError (and a group holding one) must reach
        # the caller, and the deadline above arrives here as TimeoutError.
        failure = classify(exc, statuses=statuses, client_certificate=server.auth_type == "mtls")
        if failure.reason in ("auth_rejected", "egress_denied"):
            # A refused token must not be reused until it expires; fetch a new one next time.
            cache.forget_server(server.id)
        return CheckResult(
            ok=False,
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
            reason=failure.reason,
            error=failure.message,
        )
