"""``Idempotency-Key`` for mutating API requests, as a pure ASGI middleware.

Design
------
Authentication runs inside each route's dependency, and the request's own transaction is
committed just before the answer goes out, so neither can hold the key's record: a plain
dependency would lose the claim with a rolled-back request, and it could not answer a replay
without running the route. The middleware therefore works beside the request:

1. It applies to POST, PUT, PATCH and DELETE under ``/api/v1`` that carry the header. A
   malformed key answers ``422 idempotency-key-invalid`` before anything else.
2. It buffers the body (after the body-size limit) and hands the same bytes to the route.
   The fingerprint is the method, the path with its query, and the SHA-256 of the body.
3. In a short transaction of its own it identifies the caller (``callers``): a bearer API key
   verified in full (the same check the route makes: prefix lookup through
   ``sc_api_key_lookup``, then secret, expiry and revocation), or the user behind one of our
   access tokens or a live browser session. It binds that organization, and claims
   ``(org_id, caller_id, key)`` with ``INSERT ... ON CONFLICT``. The primary key makes the
   claim race-safe: of two concurrent requests one inserts, the other waits for it to commit
   and then sees the row. A request without valid credentials passes through untouched and
   the route answers 401.
4. If the key is held: another method, path or body answers ``422 idempotency-key-reused``;
   a first request still running answers ``409 idempotency-in-progress`` (``Retry-After``); a
   finished one is replayed byte for byte with ``Idempotent-Replayed: true``, but only after
   what the route asked of its caller (kept with the answer) has been asked again and allowed
   (``reauth``): a key revoked since, or a permission removed since, gets the route's 401 or
   403 instead. These
   answers count against the key's rate limit like any request.
5. Otherwise the route runs. When its last body chunk is about to go out (after the route's
   commit), a second short transaction stores the status, content-type, location, etag and
   the body (sealed: it may hold a secret shown once), so a client that has the answer can
   never race its own retry into a 409. 5xx, 401, 408 and 429 answers, exceptions and
   cancellations release the key instead, so a retry runs again.

Claims carry a fencing token and a lease: a process that dies mid-request leaves a claim that
a retry may take over after the lease; the old request can then no longer complete it. Keys
expire after ``SPRINTCONNECT_IDEMPOTENCY_TTL_HOURS``; an expired key counts as new, and each
claim purges a batch of its organization's expired keys.
"""

from __future__ import annotations

from datetime import timedelta

import anyio
import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sprintconnect.errors import SprintConnectError
from sprintconnect.idempotency.asgi import (
    Recorder,
    read_body,
    replaying,
    send_problem,
    send_stored,
)
from sprintconnect.idempotency.callers import has_credentials, identify
from sprintconnect.idempotency.errors import IdempotencyKeyInvalid
from sprintconnect.idempotency.reauth import reauthorize, recall, remember
from sprintconnect.idempotency.request import Fingerprint, applies, idempotency_key
from sprintconnect.idempotency.service import (
    Claim,
    IdempotencyService,
    Identity,
    StoredResponse,
)
from sprintconnect.runtime import Runtime

log = structlog.get_logger(__name__)


class IdempotencyMiddleware:
    """Replays the answer of a mutating request retried with the same ``Idempotency-Key``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not applies(scope):
            await self.app(scope, receive, send)
            return
        try:
            key = idempotency_key(scope)
        except IdempotencyKeyInvalid as error:
            await send_problem(scope, receive, send, error)
            return
        if (
            key is None
            or not has_credentials(scope)
            or scope.get("state", {}).get("body_too_large")
        ):
            await self.app(scope, receive, send)
            return
        try:
            body, messages = await read_body(receive)
        except HTTPException as too_large:  # the body limit below us, hit while streaming
            await self.app(scope, _raising(too_large), send)
            return
        receive = replaying(messages, receive)
        if messages[-1]["type"] != "http.request":  # the client left before sending it all
            await self.app(scope, receive, send)
            return
        runtime: Runtime = scope["app"].state.runtime
        begun = await self._begin(runtime, scope, key, Fingerprint.of(scope, body))
        if begun is None:  # not valid credentials: the route refuses them as it always does
            await self.app(scope, receive, send)
            return
        identity, outcome = begun
        if isinstance(outcome, Claim):
            await self._run(runtime, outcome, scope, receive, send)
        else:
            await self._answer(scope, receive, send, identity, outcome)

    async def _begin(
        self, runtime: Runtime, scope: Scope, key: str, fingerprint: Fingerprint
    ) -> tuple[Identity, Claim | StoredResponse | SprintConnectError] | None:
        """Identify the caller and claim the key, in one short transaction of our own."""
        identity: Identity | None = None
        try:
            async with runtime.db.sessionmaker() as session, session.begin():
                service = _service(runtime, session)
                identity = await identify(scope, runtime, session, service)
                if identity is None:
                    return None
                return identity, await service.begin(identity, key, fingerprint)
        except SprintConnectError as refusal:  # the claim transaction rolled back: nothing kept
            assert identity is not None
            return identity, refusal

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        identity: Identity,
        outcome: StoredResponse | SprintConnectError,
    ) -> None:
        """Answer without running the route: a replay, or why the key cannot be used."""
        requirements = None
        if isinstance(outcome, StoredResponse):
            outcome, requirements = recall(outcome)
        try:
            if requirements:
                # The retry's caller must still be allowed what the route requires.
                await reauthorize(scope["app"].state.runtime, scope, receive, requirements)
            else:
                await scope["app"].state.rate_limiter.hit(identity.limit_subject)
        except SprintConnectError as refused:  # revoked, no longer permitted, rate limited
            outcome = refused
        if isinstance(outcome, StoredResponse):
            log.info("idempotency.replayed", status=outcome.status)
            await send_stored(send, outcome)
        else:
            log.info("idempotency.refused", reason=outcome.slug)
            await send_problem(scope, receive, send, outcome)

    async def _run(
        self, runtime: Runtime, claim: Claim, scope: Scope, receive: Receive, send: Send
    ) -> None:
        recorder = Recorder()
        settled = False

        async def recording_send(message: Message) -> None:
            nonlocal settled
            if recorder.see(message) and not settled:
                settled = True
                await _settle(runtime, claim, remember(scope, recorder.response()))
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            if not settled:  # raised, cancelled, or returned without a complete answer
                await _settle(runtime, claim, None)


def _service(runtime: Runtime, session: AsyncSession) -> IdempotencyService:
    ttl = timedelta(hours=runtime.settings.idempotency_ttl_hours)
    return IdempotencyService(session, runtime.keyring, runtime.clock, ttl=ttl)


async def _settle(runtime: Runtime, claim: Claim, response: StoredResponse | None) -> None:
    """Store the answer, or release the key; a failure here must not cost the client its answer.

    If storing fails the claim stays in progress until its lease ends, then a retry runs anew.
    """
    # Shielded: a client that hangs up mid-answer must not leave the key held.
    with anyio.CancelScope(shield=True):
        try:
            async with runtime.db.sessionmaker() as session, session.begin():
                service = _service(runtime, session)
                if response is None:
                    await service.release(claim)
                else:
                    await service.finish(claim, response)
        except Exception:
            log.exception("idempotency.settle_failed")


def _raising(error: HTTPException) -> Receive:
    async def receive() -> Message:
        raise error

    return receive
