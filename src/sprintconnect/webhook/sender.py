"""One signed HTTP request to an endpoint, and what came of it.

The request goes through the egress guard (``build_httpx_client``) with the organization's
policy, so the URL is checked again, resolved, and connected to at the checked address; no
redirect is followed (a 3xx is a failure: a receiver that moved must be updated). At most
``SNIPPET_BYTES`` of the answer are read, and kept as printable text. Failures are classified
(``error_class``) with a message that names no secret.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from sprintconnect.egress import EgressDenied, EgressPolicy, build_httpx_client
from sprintconnect.kit.redact import REDACTED, redact_credentials
from sprintconnect.kit.signing import sign
from sprintconnect.mcp_server.connector import Network

SNIPPET_BYTES = 1024
MAX_ERROR = 500
USER_AGENT = "SprintConnect-Webhooks/1"


@dataclass(frozen=True)
class Outcome:
    """The answer of one attempt (``status_code``) or why there was none (``error_class``)."""

    succeeded: bool
    status_code: int | None
    latency_ms: float
    snippet: str | None = None
    error_class: str | None = None
    error_message: str | None = None


def body(event_type: str, occurred_at: str, data: dict[str, Any]) -> bytes:
    """The JSON body every receiver gets: ``{type, timestamp, data}``."""
    payload = {"type": event_type, "timestamp": occurred_at, "data": data}
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def signature(secrets: list[str], msg_id: str, timestamp: int, content: bytes) -> str:
    """``v1,<sig>`` per secret, space-separated (two during a rotation's overlap)."""
    return " ".join(sign(secret, msg_id, timestamp, content) for secret in secrets)


def printable(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    return "".join(ch if ch.isprintable() else " " for ch in text)


def client(policy: EgressPolicy, network: Network, seconds: float) -> httpx.AsyncClient:
    """A guarded client; one per sender run, reused for each of its requests."""
    return build_httpx_client(
        policy,
        resolver=network.resolver,
        network_backend=network.httpx_backend,
        timeout=httpx.Timeout(seconds),
        follow_redirects=False,
    )


def _message(exc: BaseException, secrets: list[str]) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return redact_credentials(text)[:MAX_ERROR]


def classify(exc: BaseException) -> str:
    if isinstance(exc, EgressDenied):
        return "egress_denied"
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connection"
    if isinstance(exc, httpx.HTTPError):
        return "protocol"
    return "error"


async def send(
    http: httpx.AsyncClient,
    url: str,
    *,
    content: bytes,
    msg_id: str,
    timestamp: int,
    secrets: list[str],
    seconds: float,
) -> Outcome:
    """POST ``content`` to ``url`` signed with ``secrets``; never raises for the receiver's sake."""
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secrets, msg_id, timestamp, content),
    }
    started = time.perf_counter()
    try:
        async with asyncio.timeout(seconds * 2):  # connect, send and read, each bounded too
            request = http.build_request("POST", url, content=content, headers=headers)
            response = await http.send(request, stream=True)
            try:
                raw = b""
                async for chunk in response.aiter_raw():
                    raw += chunk
                    if len(raw) >= SNIPPET_BYTES:
                        break
            finally:
                await response.aclose()
    except EgressDenied as exc:
        latency = (time.perf_counter() - started) * 1000
        detail = f"{exc.reason}: {exc.detail or exc.title}"
        return Outcome(False, None, latency, error_class="egress_denied", error_message=detail)
    except Exception as exc:  # cancellation propagates; everything else is a failed attempt
        latency = (time.perf_counter() - started) * 1000
        return Outcome(
            False, None, latency, error_class=classify(exc), error_message=_message(exc, secrets)
        )
    latency = (time.perf_counter() - started) * 1000
    snippet = printable(raw[:SNIPPET_BYTES]) or None
    code = response.status_code
    if 200 <= code < 300:
        return Outcome(True, code, latency, snippet)
    if 300 <= code < 400:
        error_class, message = (
            "redirect",
            f"The receiver answered HTTP {code} (redirects are not followed).",
        )
    elif code == 410:
        error_class, message = "gone", "The receiver answered HTTP 410 Gone."
    else:
        error_class, message = "http_status", f"The receiver answered HTTP {code}."
    return Outcome(False, code, latency, snippet, error_class, message)
