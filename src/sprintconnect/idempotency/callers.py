"""Who an idempotency key belongs to: the API key that claims it, or the user behind the
access token or browser session that does.

Each credential is checked as its route would check who it is (an API key in full; one of our
own access tokens by signature, expiry and revocation; a session by its cookie and expiry),
without the checks that only the route makes (permissions, DPoP or certificate binding, CSRF):
a replay asks the route's requirements again before it answers (``reauth``). A request whose
credential is not recognised here passes through, and its route answers it as always.
Access tokens of an organization's own identity provider are not filed (documented).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.types import Scope

from sprintconnect.errors import InvalidCredentials
from sprintconnect.idempotency.service import IdempotencyService, Identity
from sprintconnect.identity.auth import credentials
from sprintconnect.runtime import Runtime


def has_credentials(scope: Scope) -> bool:
    """Whether the request carries anything that may identify its caller."""
    return any(name in (b"authorization", b"cookie") for name, _ in scope.get("headers", []))


async def identify(
    scope: Scope, runtime: Runtime, session: AsyncSession, service: IdempotencyService
) -> Identity | None:
    """The caller of the request, or None when the route is to judge its credentials."""
    request = Request(scope)
    headers = request.headers.getlist("authorization")
    if len(headers) > 1:
        return None
    if headers:
        try:
            scheme, token = credentials(headers[0])
        except InvalidCredentials:  # the route refuses it, as always
            return None
        if scheme == "bearer" and token.startswith("sc_"):
            debounce = timedelta(seconds=runtime.settings.api_key_last_used_debounce_seconds)
            return await service.identify(token, debounce=debounce)
        from sprintconnect.identity.tokens.bearer import token_caller

        found = await token_caller(request, runtime, token)
        if found is None:
            return None
        org_id, user_id = found
        return Identity(org_id=org_id, caller_id=user_id, limit_subject=f"token:{user_id}")
    from sprintconnect.identity.session.auth import session_caller, session_cookie

    cookie = session_cookie(request)
    if cookie is None:
        return None
    record = await session_caller(request, runtime, session, cookie)
    if record is None:
        return None
    return Identity(
        org_id=record.org_id, caller_id=record.user_id, limit_subject=f"session:{record.id}"
    )
