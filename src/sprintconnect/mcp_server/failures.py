"""Classifying why reaching a server failed, with guidance a person can act on."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

import httpx
import httpx2
from mcp.shared.exceptions import MCPError

from sprintconnect.egress import EgressDenied

GUIDANCE = {
    "dns": "The host name does not resolve. Check the URL's spelling and your DNS.",
    "connection_refused": "Nothing accepted the connection. Check that the server runs and "
    "listens on that port, and that firewalls let SprintConnect through.",
    "tls": "The TLS handshake failed. Check the certificate chain and that it names the host.",
    "auth_rejected": "The server refused the credentials. Update them with PATCH "
    "/api/v1/servers/{id} (auth).",
    "protocol_error": "The server did not speak MCP as expected. Check the URL points at the "
    "MCP endpoint and the transport (streamable_http or sse) is right.",
    "timeout": "The server did not answer in time. Check its load, or raise the timeout.",
    "egress_denied": "SprintConnect's egress policy refused the destination.",
    "unknown": "An unexpected error occurred; retry, and contact support if it persists.",
}


@dataclass(frozen=True)
class Failure:
    reason: str
    message: str
    cause: BaseException

    @property
    def guidance(self) -> str:
        return GUIDANCE[self.reason]


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _reason(exc: BaseException) -> str | None:
    for link in _chain(exc):
        if isinstance(link, EgressDenied):
            return "egress_denied"
        if isinstance(link, TimeoutError | httpx2.TimeoutException | httpx.TimeoutException):
            return "timeout"
        if isinstance(link, ssl.SSLError):
            return "tls"
        if isinstance(link, httpx2.HTTPStatusError | httpx.HTTPStatusError):
            if link.response.status_code in (401, 403):
                return "auth_rejected"
            return "protocol_error"
        if isinstance(link, OSError) and "Name or service not known" in str(link):
            return "dns"
        if isinstance(link, ConnectionRefusedError):
            return "connection_refused"
        if isinstance(link, httpx2.ConnectError | httpx.ConnectError):
            text = str(link).lower()
            if "certificate" in text or "ssl" in text or "tls" in text:
                return "tls"
            if "name" in text and ("resolve" in text or "known" in text):
                return "dns"
            return "connection_refused"
        if isinstance(link, MCPError):
            return "protocol_error"
    return None


def classify(exc: BaseException) -> Failure:
    leaves = _leaves(exc)
    for leaf in leaves:
        reason = _reason(leaf)
        if reason is not None:
            return Failure(reason, _message(leaf, reason), leaf)
    leaf = leaves[0] if leaves else exc
    return Failure("unknown", type(leaf).__name__, leaf)


def _message(exc: BaseException, reason: str) -> str:
    if isinstance(exc, EgressDenied):
        return f"egress denied: {exc.reason}"
    # Exception text can carry URLs with internal addresses; keep it short and typed.
    return (
        f"{type(exc).__name__}: {str(exc)[:200]}"
        if reason != "auth_rejected"
        else ("the server answered 401/403")
    )
