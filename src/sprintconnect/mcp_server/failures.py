"""Classifying why reaching a server failed, with guidance a person can act on."""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
import httpx2
from authlib.integrations.base_client import OAuthError
from mcp.shared.exceptions import MCPError
from mcp_types import REQUEST_TIMEOUT
from pydantic import ValidationError

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
    "job_discarded": "The background job for this discovery kept failing on SprintConnect's "
    "side and an operator discarded it. Request a new discovery.",
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
        if isinstance(link, OAuthError):  # the token endpoint refused the client
            return "auth_rejected"
        if isinstance(link, ValidationError):  # the server's message did not fit MCP
            return "protocol_error"
        if isinstance(link, MCPError):
            # A request the server never answered is a timeout, not a protocol fault.
            return "timeout" if link.code == REQUEST_TIMEOUT else "protocol_error"
    return None


_DISCONNECTS = (
    httpx2.RemoteProtocolError,
    httpx2.ReadError,
    httpx.RemoteProtocolError,
    httpx.ReadError,
)


def classify(
    exc: BaseException, *, statuses: Sequence[int] = (), client_certificate: bool = False
) -> Failure:
    """Why ``exc`` happened. ``statuses`` are the HTTP statuses the attempt received (the MCP
    SDK reports a 401 as a generic error); ``client_certificate`` says one was presented."""
    leaves = _leaves(exc)
    failure = None
    for leaf in leaves:
        reason = _reason(leaf)
        if reason is not None:
            failure = Failure(reason, _message(leaf, reason), leaf)
            break
    if failure is None:
        leaf = leaves[0] if leaves else exc
        failure = Failure("unknown", type(leaf).__name__, leaf)
    if failure.reason in ("protocol_error", "unknown") and any(
        status in (401, 403) for status in statuses
    ):
        return Failure("auth_rejected", _message(failure.cause, "auth_rejected"), failure.cause)
    if failure.reason == "unknown" and client_certificate:
        # With TLS 1.3 a server checks the client certificate after the handshake: refusing
        # it shows up as the connection closing (or breaking) before any answer.
        closed = next((leaf for leaf in leaves if isinstance(leaf, _DISCONNECTS)), None)
        if closed is not None:
            return Failure(
                "tls",
                "the server closed the connection after the TLS handshake; "
                "it may not accept the client certificate",
                closed,
            )
    return failure


def _validation_summary(exc: ValidationError) -> str:
    where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3])
    return f"the server's answer does not fit the MCP schema ({exc.title}): {where}"


def _message(exc: BaseException, reason: str) -> str:
    if isinstance(exc, ValidationError):
        return _validation_summary(exc)[:500]
    if isinstance(exc, EgressDenied):
        return f"egress denied: {exc.reason}"
    if isinstance(exc, OAuthError):
        return f"the token endpoint refused the client credentials ({exc.error})"
    # Exception text can carry URLs with internal addresses; keep it short and typed.
    return (
        f"{type(exc).__name__}: {str(exc)[:200]}"
        if reason != "auth_rejected"
        else ("the server answered 401/403")
    )
