"""Running one health check against a server: the outbound part, with no database in hand.

Three kinds: ``ping`` opens an MCP session through the egress guard with the server's
credentials and sends ``ping``; ``capability`` lists the tools (following cursors) and compares
their count and a hash of names and schemas with the current snapshot; ``full`` does what
``capability`` does and always asks for a discovery. The whole check, token fetch and connect
included, runs within one deadline. A failure is classified like a connection check's.

The caller reads what a check needs (``Target``) in a short transaction, releases its
connection, runs the check, and records the ``Result`` in a new transaction (ADR 0005).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mcp.types import PaginatedRequestParams

from sprintconnect.discovery.listing import ListingGuard
from sprintconnect.egress import EgressPolicy
from sprintconnect.kit.redact import redact_credentials
from sprintconnect.mcp_server.connector import Network, TokenCache, open_session
from sprintconnect.mcp_server.failures import classify
from sprintconnect.models import McpServer


@dataclass(frozen=True)
class ToolsFingerprint:
    """What a capability check compares: how many tools, and a hash of names and schemas."""

    count: int
    digest: str


@dataclass(frozen=True)
class Target:
    """Everything a check needs, read before any outbound I/O."""

    server: McpServer  # detached from its session
    check_type: str
    secret: Mapping[str, str] | None
    policy: EgressPolicy
    # The current snapshot's tools (capability and full checks); None: never discovered.
    baseline: ToolsFingerprint | None
    interval_seconds: int = 300
    # A missing secret is known before connecting: the check fails without I/O.
    secret_missing: bool = False


@dataclass(frozen=True)
class Result:
    ok: bool
    response_ms: float
    error_class: str | None = None
    message: str | None = None
    # Capability and full checks: what the server lists now, and whether it differs.
    tools: ToolsFingerprint | None = None
    changed: bool = False


def fingerprint(tools: Iterable[Mapping[str, Any]]) -> ToolsFingerprint:
    """Count and hash of tools given as their JSON bodies (as listed, or as stored)."""
    entries = sorted(
        (
            str(tool.get("name", "")),
            tool.get("inputSchema"),
            tool.get("outputSchema"),
        )
        for tool in tools
    )
    canonical = json.dumps(entries, sort_keys=True, separators=(",", ":"), default=str)
    return ToolsFingerprint(len(entries), hashlib.sha256(canonical.encode()).hexdigest())


def change_message(before: ToolsFingerprint | None, after: ToolsFingerprint) -> str | None:
    """What a capability check reports when the tools differ from the snapshot's."""
    if before is None:
        return f"the server lists {after.count} tools and has no snapshot yet"
    if before.digest == after.digest:
        return None
    if before.count != after.count:
        return f"the tools changed: {before.count} in the snapshot, {after.count} listed now"
    return f"the tools changed: {after.count} tools, names or schemas differ from the snapshot"


async def run_check(
    target: Target,
    *,
    network: Network,
    tokens: TokenCache,
    timeout_seconds: float,
    max_pages: int = 200,
) -> Result:
    """Run the check within ``timeout_seconds`` overall; report, never raise (cancellation
    propagates: it is not the server's failure)."""
    if target.secret_missing:
        return Result(False, 0.0, "auth_rejected", "the stored credentials are missing")
    server = target.server
    started = time.perf_counter()
    statuses: list[int] = []
    guard = ListingGuard()
    listed: list[dict[str, Any]] | None = None
    try:
        async with (
            asyncio.timeout(timeout_seconds),
            open_session(
                server,
                target.secret,
                target.policy,
                network=network,
                cache=tokens,
                timeout_seconds=timeout_seconds,
                statuses=statuses,
                wrap_streams=guard.wrap,
            ) as session,
        ):
            if target.check_type == "ping":
                await session.send_ping()
            else:
                listed = []
                cursor: str | None = None
                for _ in range(max_pages):
                    params = PaginatedRequestParams(cursor=cursor) if cursor else None
                    page = await session.list_tools(params=params)
                    listed += [
                        tool.model_dump(by_alias=True, exclude_none=True, mode="json")
                        for tool in page.tools
                    ]
                    cursor = page.next_cursor
                    if not cursor:
                        break
    except Exception as exc:  # a group of failures is an ExceptionGroup; cancellation propagates
        failure = classify(exc, statuses=statuses, client_certificate=server.auth_type == "mtls")
        if failure.reason in ("auth_rejected", "egress_denied"):
            tokens.forget_server(server.id)  # the next check fetches a new token
        if failure.reason == "timeout":
            text = f"the server did not answer within {timeout_seconds:g} s"
        else:
            text = redact_credentials(failure.message)[:500]
        return Result(False, _elapsed(started), failure.reason, text)
    elapsed = _elapsed(started)
    if listed is None:
        return Result(True, elapsed)
    tools = fingerprint(listed)
    message = change_message(target.baseline, tools)
    return Result(True, elapsed, None, message, tools, changed=message is not None)


def _elapsed(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
