"""Checking what a receiver got: signatures by the ``standardwebhooks`` library, bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from standardwebhooks.webhooks import Webhook

from tests.fixtures.receiver import Received


def signed_by(secret: str, request: Received) -> bool:
    """Whether one of the request's signatures is ``secret``'s (any timestamp: the tests move
    the clock, and the library's ``verify`` holds the timestamp to five minutes of real time)."""
    headers = request.headers
    expected = Webhook(secret).sign(
        headers["webhook-id"],
        datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC),
        request.body.decode(),
    )
    return expected in headers["webhook-signature"].split(" ")


def event(request: Received) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.body)
    return body
