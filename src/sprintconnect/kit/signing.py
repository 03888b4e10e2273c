"""Standard Webhooks signing: ``whsec_`` secrets and the ``webhook-signature`` value.

Shared by the notification domain's generic webhook channel and the webhook domain. The
scheme is HMAC-SHA256 over ``{id}.{timestamp}.{body}``, base64, prefixed ``v1,``; the
``standardwebhooks`` library computes it (a known-answer test pins it).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret


def secret_key(secret: str) -> bytes:
    """The key bytes of a ``whsec_<base64>`` secret; ValueError when it is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"must start with '{SECRET_PREFIX}'")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"must be '{SECRET_PREFIX}' followed by base64") from exc
    if not 16 <= len(key) <= 64:
        raise ValueError("must hold 16 to 64 bytes of key")
    return key


def new_secret(size: int = 32) -> str:
    """A fresh ``whsec_`` secret of ``size`` random bytes (24 to 32 as the spec suggests)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(size)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value of the Standard Webhooks specification."""
    signer = Webhook(secret_key(secret))
    return signer.sign(msg_id, datetime.fromtimestamp(timestamp, UTC), body.decode())
