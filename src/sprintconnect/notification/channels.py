"""Sending one notice: email over SMTP, a Slack incoming webhook, a signed generic webhook.

The SMTP server is the operator's (a setting); Slack and webhook URLs are the members', so those
requests go through the egress guard (``build_httpx_client``) with the organization's policy.
Every failure becomes ``DeliveryFailed`` with a message that names no secret: a Slack webhook URL
carries its secret in the path, so it is cut out of any text before the text is kept or logged.
Generic webhooks are signed as the Standard Webhooks specification says (``webhook-id``,
``webhook-timestamp``, ``webhook-signature: v1,<base64 HMAC-SHA256>``) by ``kit.signing``,
which the webhook domain shares.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import aiosmtplib
import httpx

from sprintconnect.config import Settings
from sprintconnect.egress import EgressPolicy, build_httpx_client
from sprintconnect.kit.redact import REDACTED, redact_credentials
from sprintconnect.kit.signing import secret_key as secret_key  # re-exported
from sprintconnect.kit.signing import sign
from sprintconnect.mcp_server.connector import Network

MAX_ERROR = 1000


class DeliveryFailed(Exception):
    """A notice did not go out; ``str`` is safe to store and show (secrets removed)."""

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message[:MAX_ERROR])
        self.retry = retry


@dataclass(frozen=True)
class Notice:
    """What a notice says, for every channel."""

    topic: str
    kind: str  # unhealthy, degraded, recovered
    subject: str
    text: str
    payload: dict[str, Any]


_HEADLINES = {
    "unhealthy": "is unhealthy",
    "degraded": "is degraded",
    "recovered": "has recovered",
}


def _plain(value: object, limit: int = 200) -> str:
    """One line of printable text (server names and errors come from elsewhere)."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(value))
    return text[:limit]


def render(topic: str, payload: dict[str, Any], *, reminder: bool = False) -> Notice:
    kind = topic.rsplit(".", 1)[-1]
    name = _plain(payload.get("server_name") or payload.get("server_id") or "a server", 120)
    env = _plain(payload.get("environment") or "", 40)
    where = f"{name} ({env})" if env else name
    headline = _HEADLINES.get(kind, kind)
    subject = f"[SprintConnect] {'Still: ' if reminder else ''}{where} {headline}"
    lines = [
        f"MCP server {where} {headline}.",
        f"Status: {_plain(payload.get('status'))} (was {_plain(payload.get('previous_status'))})",
        f"At: {_plain(payload.get('at'))}",
    ]
    if payload.get("error_class"):
        lines.append(
            f"Error: {_plain(payload['error_class'])}: {_plain(payload.get('message'), 500)}"
        )
    if payload.get("failure_streak"):
        lines.append(f"Consecutive failed checks: {_plain(payload['failure_streak'])}")
    if payload.get("response_ms") is not None:
        lines.append(f"Response time: {_plain(payload['response_ms'])} ms")
    lines.append(f"Details: GET /api/v1/servers/{_plain(payload.get('server_id'))}/health")
    return Notice(topic=topic, kind=kind, subject=subject, text="\n".join(lines), payload=payload)


def _failure(exc: BaseException, *secrets: str | None) -> str:
    text = f"{type(exc).__name__}: {exc}"
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return redact_credentials(text)[:MAX_ERROR]


# --- email --------------------------------------------------------------------------------


def email_message(settings: Settings, to: str, notice: Notice, message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    message["To"] = to
    message["Subject"] = notice.subject
    message["Date"] = formatdate(localtime=False)
    # Stable across retries: a receiver can tell a repeated delivery from a new notice.
    message["Message-ID"] = f"<{message_id}@sprintconnect>"
    message.set_content(notice.text)
    return message


async def send_email(settings: Settings, to: str, notice: Notice, message_id: str) -> None:
    if not settings.smtp_host:
        raise DeliveryFailed(
            "Email is not configured on this SprintConnect (SPRINTCONNECT_SMTP_HOST is unset).",
            retry=False,
        )
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    try:
        async with asyncio.timeout(settings.smtp_timeout_seconds * 2):
            await aiosmtplib.send(
                email_message(settings, to, notice, message_id),
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=password,
                use_tls=settings.smtp_tls == "tls",
                start_tls=settings.smtp_tls == "starttls",
                timeout=settings.smtp_timeout_seconds,
            )
    except Exception as exc:  # cancellation propagates; everything else is a failed attempt
        raise DeliveryFailed(_failure(exc, password)) from None


# --- Slack ----------------------------------------------------------------------------------


def slack_body(notice: Notice) -> dict[str, Any]:
    """An incoming webhook's message: ``text`` for notifications, blocks for the channel."""
    return {
        "text": notice.subject,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": notice.subject[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": notice.text[:2900]}},
        ],
    }


async def _post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    policy: EgressPolicy,
    network: Network,
    seconds: float,
    *secrets: str | None,
) -> None:
    try:
        async with (
            asyncio.timeout(seconds * 2),
            build_httpx_client(
                policy,
                resolver=network.resolver,
                network_backend=network.httpx_backend,
                timeout=httpx.Timeout(seconds),
            ) as client,
        ):
            response = await client.post(
                url, content=body, headers={"content-type": "application/json", **headers}
            )
    except Exception as exc:
        raise DeliveryFailed(_failure(exc, *secrets)) from None
    if not 200 <= response.status_code < 300:
        # 4xx other than 408/429 will not get better by trying again.
        retry = response.status_code >= 500 or response.status_code in (408, 429)
        raise DeliveryFailed(f"The receiver answered HTTP {response.status_code}.", retry=retry)


async def send_slack(
    url: str, notice: Notice, policy: EgressPolicy, network: Network, *, seconds: float
) -> None:
    body = json.dumps(slack_body(notice)).encode()
    await _post(url, body, {}, policy, network, seconds, url)


# --- generic webhooks -----------------------------------------------------------------------


def webhook_body(notice: Notice) -> bytes:
    return json.dumps(
        {"type": notice.topic, "timestamp": notice.payload.get("at"), "data": notice.payload},
        separators=(",", ":"),
    ).encode()


async def send_webhook(
    url: str,
    secret: str | None,
    notice: Notice,
    msg_id: str,
    timestamp: int,
    policy: EgressPolicy,
    network: Network,
    *,
    seconds: float,
) -> None:
    body = webhook_body(notice)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(timestamp)}
    if secret:
        headers["webhook-signature"] = sign(secret, msg_id, timestamp, body)
    await _post(url, body, headers, policy, network, seconds, secret)
