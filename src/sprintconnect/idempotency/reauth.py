"""Before a replay: the route's own authentication and authorization, asked again.

A stored answer can hold what only its first caller could see (the plaintext of a key it
created). The caller of a retry must still hold what the route requires today. What the route
asked (its ``Authenticator`` and any ``require`` it added) is kept with the answer, and asked
again, in a short transaction of its own, before the answer is replayed: a key revoked since
answers 401, a permission removed since (a role taken away, a policy that now forbids the
action) answers 403, as the route itself would.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.types import Receive, Scope

from sprintconnect.idempotency.service import StoredResponse
from sprintconnect.identity.auth import reauthenticate
from sprintconnect.runtime import Runtime

# Kept among the stored answer's headers; never sent to a client.
REQUIREMENTS_HEADER = "x-sprintconnect-requirements"

Requirements = list[dict[str, str | None]]


def remember(scope: Scope, response: StoredResponse) -> StoredResponse:
    """The answer, with what the route asked of its caller."""
    requirements = scope.get("state", {}).get("requirements")
    if not requirements:
        return response
    entry = (REQUIREMENTS_HEADER, json.dumps(requirements, separators=(",", ":")))
    return StoredResponse(response.status, [*response.headers, entry], response.body)


def recall(stored: StoredResponse) -> tuple[StoredResponse, Requirements | None]:
    """The answer as it is sent, and what its route asked (None if nothing was kept)."""
    kept = [(name, value) for name, value in stored.headers if name != REQUIREMENTS_HEADER]
    raw = next((value for name, value in stored.headers if name == REQUIREMENTS_HEADER), None)
    requirements: Any = json.loads(raw) if raw else None
    if not isinstance(requirements, list) or not all(isinstance(r, dict) for r in requirements):
        requirements = None
    return StoredResponse(stored.status, kept, stored.body), requirements


async def reauthorize(
    runtime: Runtime, scope: Scope, receive: Receive, requirements: Requirements
) -> None:
    """Ask again; raises the route's 401, 403 or 429. Counts against the rate limits."""
    async with runtime.db.sessionmaker() as session, session.begin():
        await reauthenticate(Request(scope, receive), session, requirements)
