"""The ``webhook.test`` event: sent at once on request, answered, never stored."""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

from sprintconnect.egress import EgressPolicy
from sprintconnect.mcp_server.connector import Network
from sprintconnect.secret import SecretStore
from sprintconnect.webhook import sender
from sprintconnect.webhook.catalog import TEST_TYPE
from sprintconnect.webhook.schemas import WebhookTestResult
from sprintconnect.webhook.secrets import signing_secrets


async def send_test(
    store: SecretStore,
    network: Network,
    *,
    org_id: UUID,
    endpoint_id: UUID,
    url: str,
    policy: EgressPolicy,
    now: datetime,
    previous_until: datetime | None,
    seconds: float,
) -> WebhookTestResult:
    secrets = await signing_secrets(store, org_id, endpoint_id, now, previous_until)
    msg_id = f"msg_test_{uuid.uuid4().hex}"
    data = {"webhook_id": str(endpoint_id), "message": "A test event from SprintConnect."}
    async with sender.client(policy, network, seconds) as http:
        outcome = await sender.send(
            http,
            url,
            content=sender.body(TEST_TYPE, now.isoformat(), data),
            msg_id=msg_id,
            timestamp=int(now.timestamp()),
            secrets=secrets,
            seconds=seconds,
        )
    return WebhookTestResult(
        succeeded=outcome.succeeded,
        message_id=msg_id,
        status_code=outcome.status_code,
        latency_ms=round(outcome.latency_ms, 3),
        response_snippet=outcome.snippet,
        error_class=outcome.error_class,
        error_message=outcome.error_message,
    )
